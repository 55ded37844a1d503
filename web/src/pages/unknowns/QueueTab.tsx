// The labelling queue: each unknown song with what the services suggested, its excerpt, and
// the analyst's decision (name it as suggested, correct the name first, or reject it).
import { Badge, Box, Button, CloseButton, Dialog, HStack, Portal, Stack, Text } from "@chakra-ui/react";
import { useState } from "react";
import {
  PAGE_SIZE,
  type NameFields,
  type Unknown,
  type UnknownState,
  useDecide,
  useUnknowns,
} from "../../api/unknowns";
import { Can } from "../../auth/session";
import { AudioExcerpt } from "../../components/AudioExcerpt";
import { ConfirmButton } from "../../components/buttons";
import { SelectField, TextField } from "../../components/fields";
import { ListTable } from "../../components/ListTable";
import { Notice, QueryNotice } from "../../components/Notice";
import { Pager } from "../../components/Pager";
import { Toolbar } from "../../components/Toolbar";
import { type MessageKey, useFormat, useT } from "../../i18n";

export function QueueTab() {
  const t = useT();
  const f = useFormat();
  const [state, setState] = useState<UnknownState>("open");
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState<Unknown | null>(null);
  const queue = useUnknowns(state, page);
  return (
    <Stack gap="4">
      <Text color="fg.muted" maxW="3xl">
        {t("unknowns.queueIntro")}
      </Text>
      <Toolbar>
        <SelectField
          label={t("unknowns.state")}
          value={state}
          onChange={(v) => {
            setState(v as UnknownState);
            setPage(1);
          }}
          options={[
            { value: "open", label: t("unknowns.stateOpen") },
            { value: "decided", label: t("unknowns.stateDecided") },
            { value: "all", label: t("unknowns.stateAll") },
          ]}
        />
      </Toolbar>
      <QueryNotice query={queue} />
      {queue.data && queue.data.items.length === 0 && <Notice status="success" title={t("unknowns.queueEmpty")} />}
      {queue.data && queue.data.items.length > 0 && (
        <>
          <ListTable
            caption={t("unknowns.queueCaption")}
            rows={queue.data.items}
            rowKey={(u) => u.id}
            columns={[
              { header: t("unknowns.col.song"), render: (u) => <Song unknown={u} /> },
              {
                header: t("unknowns.col.airtime"),
                numeric: true,
                nowrap: true,
                render: (u) => (
                  <>
                    {f.duration(u.airtime_s)}
                    <Text fontSize="xs" color="fg.muted">
                      {t("unknowns.spans", { count: u.spans })}
                    </Text>
                  </>
                ),
              },
              { header: t("unknowns.col.stations"), render: (u) => u.stations.join(", ") },
              {
                header: t("unknowns.col.heard"),
                nowrap: true,
                render: (u) => `${f.date(u.first_seen)} – ${f.date(u.last_seen)}`,
              },
              { header: t("unknowns.col.excerpt"), render: (u) => <Listen unknown={u} /> },
              {
                header: t("unknowns.col.decision"),
                actions: true,
                render: (u) => <Decision unknown={u} onEdit={() => setEditing(u)} />,
              },
            ]}
          />
          <Pager page={page} pageSize={PAGE_SIZE} total={queue.data.total} onPage={setPage} />
        </>
      )}
      {editing && <NameDialog unknown={editing} onClose={() => setEditing(null)} />}
    </Stack>
  );
}

function Song({ unknown }: { unknown: Unknown }) {
  const t = useT();
  const f = useFormat();
  const best = unknown.candidates[0];
  return (
    <Box>
      {best ? (
        <Text fontWeight="semibold">
          {best.title} — {best.artist}
        </Text>
      ) : (
        <Text fontStyle="italic">{t("unknowns.noName")}</Text>
      )}
      <HStack gap="2" fontSize="xs" color="fg.muted" wrap="wrap">
        {best && <Badge size="sm">{best.provider}</Badge>}
        {best?.score != null && <span>{f.percent(best.score * 100, 0)}</span>}
        {best?.isrc && <span>{t("unknowns.isrc", { isrc: best.isrc })}</span>}
        <span>
          {t("unknowns.lookup", {
            state: unknown.lookup in LOOKUP ? t(LOOKUP[unknown.lookup as Lookup]) : unknown.lookup,
          })}
        </span>
      </HStack>
    </Box>
  );
}

function Listen({ unknown }: { unknown: Unknown }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  if (!unknown.excerpt_url) return <Text color="fg.muted">{t("unknowns.noAudio")}</Text>;
  if (!open) {
    return (
      <Button size="xs" variant="outline" onClick={() => setOpen(true)}>
        {t("unknowns.listen")}
      </Button>
    );
  }
  return <AudioExcerpt path={unknown.excerpt_url} label={t("unknowns.player")} failed={t("unknowns.excerptFailed")} />;
}

function Decision({ unknown, onEdit }: { unknown: Unknown; onEdit: () => void }) {
  const t = useT();
  const f = useFormat();
  const decide = useDecide(unknown.id);
  if (unknown.decision) {
    return (
      <Text fontSize="sm">
        {t(DECIDED[unknown.decision], {
          by: unknown.decided_by ?? t("common.unknown"),
          at: unknown.decided_at ? f.dateTime(unknown.decided_at) : "",
        })}
      </Text>
    );
  }
  return (
    <Can do="unknowns.decide">
      <Stack gap="1" align="start">
        <HStack gap="1" wrap="wrap">
          <Button
            size="xs"
            colorPalette="green"
            disabled={unknown.candidates.length === 0}
            loading={decide.isPending}
            onClick={() => decide.mutate({ kind: "accept" })}
          >
            {t("unknowns.accept")}
          </Button>
          <Button size="xs" variant="outline" onClick={onEdit}>
            {t("unknowns.edit")}
          </Button>
        </HStack>
        <ConfirmButton
          label={t("unknowns.rejectNotMusic")}
          question={t("unknowns.rejectQuestion")}
          onConfirm={() => decide.mutate({ kind: "reject", reason: "not_music" })}
        />
        <ConfirmButton
          label={t("unknowns.rejectScope")}
          question={t("unknowns.rejectQuestion")}
          onConfirm={() => decide.mutate({ kind: "reject", reason: "not_in_scope" })}
        />
        {decide.isError && <Notice status="error" title={t("unknowns.decideFailed")} error={decide.error} />}
      </Stack>
    </Can>
  );
}

const LOOKUP = {
  waiting: "unknowns.lookup.waiting",
  acoustid: "unknowns.lookup.acoustid",
  excerpt: "unknowns.lookup.excerpt",
  audd: "unknowns.lookup.audd",
  named: "unknowns.lookup.named",
  not_found: "unknowns.lookup.not_found",
  no_audio: "unknowns.lookup.no_audio",
  parked: "unknowns.lookup.parked",
} as const satisfies Record<string, MessageKey>;
type Lookup = keyof typeof LOOKUP;

const DECIDED = {
  accepted: "unknowns.accepted",
  rejected: "unknowns.rejected",
  merged: "unknowns.merged",
} as const satisfies Record<NonNullable<Unknown["decision"]>, MessageKey>;

const FIELDS = ["title", "artist", "album", "label", "isrc"] as const;
const FIELD_LABELS = {
  title: "unknowns.field.title",
  artist: "unknowns.field.artist",
  album: "unknowns.field.album",
  label: "unknowns.field.label",
  isrc: "unknowns.field.isrc",
} as const satisfies Record<(typeof FIELDS)[number], MessageKey>;

function NameDialog({ unknown, onClose }: { unknown: Unknown; onClose: () => void }) {
  const t = useT();
  const best = unknown.candidates[0];
  const [name, setName] = useState<Record<(typeof FIELDS)[number], string>>({
    title: best?.title ?? "",
    artist: best?.artist ?? "",
    album: best?.album ?? "",
    label: best?.label ?? "",
    isrc: best?.isrc ?? "",
  });
  const decide = useDecide(unknown.id);
  const save = () => {
    // only what is filled in: an empty field is no value, not a value to store
    const edit = Object.fromEntries(FIELDS.filter((k) => name[k].trim()).map((k) => [k, name[k].trim()]));
    decide.mutate({ kind: "accept", edit: edit as NameFields }, { onSuccess: onClose });
  };
  return (
    <Dialog.Root open onOpenChange={(e) => !e.open && onClose()} size="md">
      <Portal>
        <Dialog.Backdrop />
        <Dialog.Positioner>
          <Dialog.Content>
            <Dialog.Header>
              <Dialog.Title>{t("unknowns.editTitle")}</Dialog.Title>
            </Dialog.Header>
            <Dialog.Body>
              <Stack gap="3">
                {FIELDS.map((k) => (
                  <TextField
                    key={k}
                    label={t(FIELD_LABELS[k])}
                    value={name[k]}
                    required={k === "title" || k === "artist"}
                    maxW="md"
                    onChange={(v) => setName({ ...name, [k]: v })}
                  />
                ))}
                {decide.isError && <Notice status="error" title={t("unknowns.decideFailed")} error={decide.error} />}
              </Stack>
            </Dialog.Body>
            <Dialog.Footer>
              <Button variant="ghost" onClick={onClose}>
                {t("common.cancel")}
              </Button>
              <Button
                colorPalette="green"
                loading={decide.isPending}
                disabled={!name.title.trim() || !name.artist.trim()}
                onClick={save}
              >
                {t("unknowns.save")}
              </Button>
            </Dialog.Footer>
            <Dialog.CloseTrigger asChild>
              <CloseButton size="sm" aria-label={t("common.close")} />
            </Dialog.CloseTrigger>
          </Dialog.Content>
        </Dialog.Positioner>
      </Portal>
    </Dialog.Root>
  );
}
