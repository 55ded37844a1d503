import {
  Badge,
  Box,
  Button,
  CloseButton,
  DataList,
  Dialog,
  Heading,
  HStack,
  Portal,
  Spinner,
  Stack,
  Text,
} from "@chakra-ui/react";
import { useState } from "react";
import { useEvidence, useFlagPlay, useRequestExcerpt } from "../../api/plays";
import type { Evidence } from "../../api/types";
import { Can } from "../../auth/session";
import { AudioExcerpt } from "../../components/AudioExcerpt";
import { TextField } from "../../components/fields";
import { ListTable } from "../../components/ListTable";
import { Notice, QueryNotice } from "../../components/Notice";
import { useFormat, useT } from "../../i18n";

function Excerpt({ evidence }: { evidence: Evidence }) {
  const t = useT();
  const f = useFormat();
  const request = useRequestExcerpt(evidence.play.id);
  const { state, requested_at, reason } = evidence.excerpt;
  return (
    <Box>
      <Heading as="h3" size="md" mb="2">
        {t("evidence.excerpt")}
      </Heading>
      {state === "available" && (
        <AudioExcerpt
          path={`/api/v1/plays/${evidence.play.id}/excerpt`}
          label={t("evidence.excerptPlayer")}
          failed={t("evidence.excerptFailed")}
        />
      )}
      {state === "requested" && (
        <Text>{t("evidence.excerptRequested", { at: requested_at ? f.dateTime(requested_at) : "" })}</Text>
      )}
      {state === "unavailable" && <Text>{t("evidence.excerptUnavailable", { reason: reason ?? "" })}</Text>}
      {state === "none" && (
        <Stack gap="2" align="start">
          <Text>{t("evidence.excerptNone", { agent: evidence.agent ?? t("common.unknown") })}</Text>
          <Can do="plays.excerpt">
            <Button size="sm" onClick={() => request.mutate()} loading={request.isPending}>
              {t("evidence.excerptAsk")}
            </Button>
          </Can>
        </Stack>
      )}
      {request.isError && <Notice status="error" title={t("evidence.excerptFailed")} error={request.error} />}
    </Box>
  );
}

function Flag({ evidence }: { evidence: Evidence }) {
  const t = useT();
  const f = useFormat();
  const flag = useFlagPlay(evidence.play.id);
  const [reason, setReason] = useState("");
  const current = evidence.flag;
  return (
    <Box>
      <Heading as="h3" size="md" mb="2">
        {t("evidence.review")}
      </Heading>
      {current ? (
        <Stack gap="2" align="start">
          <Notice status="warning" title={t("evidence.flaggedBy", { by: current.by, at: f.dateTime(current.at) })}>
            <Text>{current.reason}</Text>
          </Notice>
          <Can do="plays.flag">
            <Button size="sm" variant="outline" onClick={() => flag.mutate(null)} loading={flag.isPending}>
              {t("evidence.unflag")}
            </Button>
          </Can>
        </Stack>
      ) : (
        <>
          <Text mb="2">{t("evidence.notFlagged")}</Text>
          <Can do="plays.flag">
            <HStack
              as="form"
              align="end"
              gap="2"
              onSubmit={(e) => {
                e.preventDefault();
                flag.mutate(reason.trim());
              }}
            >
              <TextField label={t("evidence.flagReason")} value={reason} onChange={setReason} required maxW="md" />
              <Button
                type="submit"
                size="sm"
                colorPalette="red"
                disabled={reason.trim() === ""}
                loading={flag.isPending}
              >
                {t("evidence.flag")}
              </Button>
            </HStack>
          </Can>
        </>
      )}
      {flag.isError && <Notice status="error" title={t("evidence.flagFailed")} error={flag.error} />}
    </Box>
  );
}

function Body({ evidence }: { evidence: Evidence }) {
  const t = useT();
  const f = useFormat();
  const p = evidence.play;
  const facts: [string, string][] = [
    [t("common.station"), p.station],
    [t("evidence.when"), `${f.dateTime(p.start_utc)} – ${f.time(p.end_utc)}`],
    [t("plays.col.duration"), f.duration(p.duration)],
    [
      t("evidence.inRecording"),
      `${f.duration(evidence.offset_start)} – ${f.duration(evidence.offset_end)} / ${f.duration(evidence.recording_duration)}`,
    ],
    [t("plays.col.confidence"), f.percent(p.confidence * 100, 0)],
    [t("evidence.matchedShare"), f.percent(evidence.matched_fraction * 100, 0)],
    [t("evidence.rate"), f.rate(evidence.rate_ppm)],
    [t("evidence.ids"), [p.external_id, p.isrc].filter(Boolean).join(" · ")],
  ];
  return (
    <Stack gap="5">
      <DataList.Root orientation="horizontal" size="sm">
        {facts.map(([label, value]) => (
          <DataList.Item key={label}>
            <DataList.ItemLabel minW="40">{label}</DataList.ItemLabel>
            <DataList.ItemValue>{value}</DataList.ItemValue>
          </DataList.Item>
        ))}
      </DataList.Root>
      <Box>
        <Heading as="h3" size="md" mb="2">
          {t("evidence.segments", { count: evidence.segments.length })}
        </Heading>
        <ListTable
          caption={t("evidence.segmentsCaption")}
          rows={evidence.segments}
          rowKey={(seg) => seg.id}
          maxH="48"
          columns={[
            { header: t("evidence.segStart"), render: (seg) => f.time(seg.start) },
            { header: t("evidence.segOffset"), render: (seg) => f.duration(seg.offset) },
            { header: t("evidence.segScore"), numeric: true, render: (seg) => f.percent(seg.score * 100, 0) },
            { header: t("evidence.rate"), numeric: true, render: (seg) => f.rate(seg.rate_ppm) },
            { header: t("overview.col.level"), numeric: true, render: (seg) => f.dbfs(seg.level_dbfs) },
          ]}
        />
      </Box>
      <Box>
        <Heading as="h3" size="md" mb="2">
          {t("station.icy")}
        </Heading>
        {evidence.titles.length === 0 ? (
          <Text color="fg.muted">{t("evidence.noIcy")}</Text>
        ) : (
          evidence.titles.map((title) => (
            <Text key={title.start}>
              {f.time(title.start)} · {title.title}
            </Text>
          ))
        )}
      </Box>
      <Excerpt evidence={evidence} />
      <Flag evidence={evidence} />
    </Stack>
  );
}

export function EvidenceDialog({ playId, onClose }: { playId: number | null; onClose: () => void }) {
  const t = useT();
  const evidence = useEvidence(playId);
  const play = evidence.data?.play;
  return (
    <Dialog.Root open={playId !== null} onOpenChange={(e) => !e.open && onClose()} size="lg" scrollBehavior="inside">
      <Portal>
        <Dialog.Backdrop />
        <Dialog.Positioner>
          <Dialog.Content>
            <Dialog.Header>
              <Dialog.Title>
                {play ? t("evidence.title", { title: play.title, artist: play.artist }) : t("plays.evidence")}
              </Dialog.Title>
              {play && (
                <Badge ml="2" colorPalette={play.final ? "green" : "yellow"}>
                  {t(play.final ? "plays.final" : "plays.open")}
                </Badge>
              )}
            </Dialog.Header>
            <Dialog.Body>
              <QueryNotice query={evidence} />
              {evidence.isPending && playId !== null && <Spinner aria-label={t("common.loading")} />}
              {evidence.data && <Body evidence={evidence.data} />}
            </Dialog.Body>
            <Dialog.CloseTrigger asChild>
              <CloseButton size="sm" aria-label={t("common.close")} />
            </Dialog.CloseTrigger>
          </Dialog.Content>
        </Dialog.Positioner>
      </Portal>
    </Dialog.Root>
  );
}
