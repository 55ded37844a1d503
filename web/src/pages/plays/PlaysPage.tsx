import { Box, Button, Flex, Heading, HStack, Spinner, Text } from "@chakra-ui/react";
import { useState, type FormEvent } from "react";
import { useSearchParams } from "react-router";
import { playQuery, usePlays, type PlayFilters } from "../../api/plays";
import { DownloadButton } from "../../components/buttons";
import { PeriodField, SelectField, StationSelect, TextField } from "../../components/fields";
import { QueryNotice } from "../../components/Notice";
import { Toolbar } from "../../components/Toolbar";
import { Pager } from "../../components/Pager";
import { useFormat, useI18n } from "../../i18n";
import { EvidenceDialog } from "./EvidenceDialog";
import { PlayRows } from "./PlayRows";

const PAGE_SIZE = 50;

function filtersFrom(params: URLSearchParams, month: string): PlayFilters {
  const status = params.get("status");
  const flagged = params.get("flagged");
  return {
    station: params.getAll("station"),
    period: params.get("period") ?? month,
    recording: params.get("recording") ?? "",
    artist: params.get("artist") ?? "",
    label: params.get("label") ?? "",
    status: status === "open" || status === "final" ? status : "all",
    flagged: flagged === "true" ? "yes" : flagged === "false" ? "no" : "all",
    page: Math.max(1, Number(params.get("page") ?? 1) || 1),
    pageSize: PAGE_SIZE,
  };
}

function toParams(f: PlayFilters): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(playQuery(f))) {
    if (key === "page_size" || value === undefined || value === "" || value === null) continue;
    if (key === "page" && value === 1) continue;
    out[key] = Array.isArray(value) ? [...value] : String(value);
  }
  return out;
}

export default function PlaysPage() {
  const { t, lang } = useI18n();
  const f = useFormat();
  const [params, setParams] = useSearchParams();
  const applied = filtersFrom(params, f.month());
  const [draft, setDraft] = useState(applied);
  const [open, setOpen] = useState<number | null>(null);
  const plays = usePlays(applied, applied.period !== "");
  const set = <K extends keyof PlayFilters>(key: K, value: PlayFilters[K]) => setDraft((d) => ({ ...d, [key]: value }));

  function submit(event: FormEvent) {
    event.preventDefault();
    setParams(toParams({ ...draft, page: 1 }));
  }
  const exportQuery = { ...playQuery(applied), page: undefined, page_size: undefined, lang };

  return (
    <Box>
      <Heading as="h1" size="2xl" mb="4">
        {t("plays.title")}
      </Heading>
      <Toolbar
        onSubmit={submit}
        actions={
          <Button type="submit" colorPalette="green" size="sm">
            {t("common.apply")}
          </Button>
        }
      >
        <StationSelect value={draft.station[0] ?? ""} onChange={(v) => set("station", v ? [v] : [])} allowAll />
        <PeriodField value={draft.period} onChange={(v) => set("period", v)} />
        <SelectField
          label={t("plays.status")}
          value={draft.status}
          onChange={(v) => set("status", v as PlayFilters["status"])}
          options={[
            { value: "all", label: t("plays.statusAll") },
            { value: "final", label: t("plays.final") },
            { value: "open", label: t("plays.open") },
          ]}
        />
        <SelectField
          label={t("plays.flags")}
          value={draft.flagged}
          onChange={(v) => set("flagged", v as PlayFilters["flagged"])}
          options={[
            { value: "all", label: t("plays.statusAll") },
            { value: "yes", label: t("plays.flaggedOnly") },
            { value: "no", label: t("plays.notFlagged") },
          ]}
        />
        <TextField
          label={t("plays.recording")}
          help={t("plays.recordingHelp")}
          value={draft.recording}
          onChange={(v) => set("recording", v)}
        />
        <TextField label={t("plays.artist")} value={draft.artist} onChange={(v) => set("artist", v)} />
        <TextField label={t("plays.label")} value={draft.label} onChange={(v) => set("label", v)} />
      </Toolbar>
      <Flex gap="3" align="center" mb="3" wrap="wrap">
        <Text fontWeight="medium" aria-live="polite">
          {plays.data ? t("plays.total", { count: plays.data.total }) : ""}
        </Text>
        {plays.isFetching && <Spinner size="xs" aria-label={t("common.loading")} />}
        <HStack ml="auto" gap="2">
          <DownloadButton path="/api/v1/plays" query={{ ...exportQuery, format: "csv" }} label={t("plays.exportCsv")} />
          <DownloadButton
            path="/api/v1/plays"
            query={{ ...exportQuery, format: "xlsx" }}
            label={t("plays.exportXlsx")}
          />
        </HStack>
      </Flex>
      <QueryNotice query={plays} />
      {plays.data && plays.data.items.length === 0 && <Text>{t("plays.empty")}</Text>}
      {plays.data && plays.data.items.length > 0 && (
        <>
          <PlayRows plays={plays.data.items} onOpen={setOpen} />
          <Pager
            page={applied.page}
            pageSize={PAGE_SIZE}
            total={plays.data.total}
            onPage={(page) => setParams(toParams({ ...applied, page }))}
          />
          <Text fontSize="xs" color="fg.muted" mt="2">
            {t("common.zoneNote", { zone: plays.data.timezone })}
          </Text>
        </>
      )}
      <EvidenceDialog playId={open} onClose={() => setOpen(null)} />
    </Box>
  );
}
