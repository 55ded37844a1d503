import { Box, DataList, Heading, Link, Spinner, Text } from "@chakra-ui/react";
import { useState } from "react";
import { Link as RouterLink, useParams } from "react-router";
import { useRecording } from "../../api/catalog";
import { usePlays } from "../../api/plays";
import { PeriodField } from "../../components/fields";
import { QueryNotice } from "../../components/Notice";
import { Toolbar } from "../../components/Toolbar";
import { Pager } from "../../components/Pager";
import { useFormat, useT } from "../../i18n";
import { EvidenceDialog } from "../plays/EvidenceDialog";
import { PlayRows } from "../plays/PlayRows";

export default function RecordingPage() {
  const t = useT();
  const f = useFormat();
  const { externalId = "" } = useParams();
  const recording = useRecording(externalId);
  const [period, setPeriod] = useState(f.month());
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState<number | null>(null);
  const filters = {
    station: [],
    period,
    recording: externalId,
    artist: "",
    label: "",
    status: "all" as const,
    flagged: "all" as const,
    page,
    pageSize: 20,
  };
  const plays = usePlays(filters, period !== "");
  const r = recording.data;
  return (
    <Box>
      <Link asChild fontSize="sm" color="green.800">
        <RouterLink to="/catalog">{t("catalog.back")}</RouterLink>
      </Link>
      <QueryNotice query={recording} />
      {recording.isPending && <Spinner aria-label={t("common.loading")} />}
      {r && (
        <>
          <Heading as="h1" size="2xl" mt="2">
            {r.title}
          </Heading>
          <Text fontSize="lg" color="fg.muted" mb="4">
            {r.artist}
          </Text>
          <DataList.Root orientation="horizontal" size="sm" bg="white" p="4" borderWidth="1px" borderRadius="md" mb="6">
            {(
              [
                ["col.externalId", r.external_id],
                ["col.isrc", r.isrc],
                ["col.iswc", r.iswc],
                ["col.album", r.album],
                ["col.label", r.label],
                ["col.composer", r.composer],
                ["col.publisher", r.publisher],
                ["col.year", r.year == null ? null : String(r.year)],
                ["col.duration", f.duration(r.duration)],
              ] as const
            ).map(([label, value]) => (
              <DataList.Item key={label}>
                <DataList.ItemLabel minW="32">{t(label)}</DataList.ItemLabel>
                <DataList.ItemValue>{value ?? t("common.dash")}</DataList.ItemValue>
              </DataList.Item>
            ))}
          </DataList.Root>
          <Heading as="h2" size="lg" mb="3">
            {t("catalog.plays")}
          </Heading>
          <Toolbar>
            <PeriodField
              value={period}
              onChange={(v) => {
                setPeriod(v);
                setPage(1);
              }}
            />
          </Toolbar>
          <QueryNotice query={plays} />
          {plays.data && plays.data.items.length === 0 && <Text>{t("plays.empty")}</Text>}
          {plays.data && plays.data.items.length > 0 && (
            <>
              <PlayRows plays={plays.data.items} onOpen={setOpen} />
              <Pager page={page} pageSize={20} total={plays.data.total} onPage={setPage} />
            </>
          )}
          <EvidenceDialog playId={open} onClose={() => setOpen(null)} />
        </>
      )}
    </Box>
  );
}
