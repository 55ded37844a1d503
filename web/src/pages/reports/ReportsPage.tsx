import { Box, Heading, Spinner, Stack, Text } from "@chakra-ui/react";
import { lazy, Suspense, useCallback, useMemo, useState } from "react";
import { useActivity, useAirtime, usePlaylist } from "../../api/reports";
import type { AirtimeBy } from "../../api/types";
import { DownloadButton } from "../../components/buttons";
import { DataTable } from "../../components/DataTable";
import { PeriodField, SelectField, StationSelect } from "../../components/fields";
import { QueryNotice } from "../../components/Notice";
import { Toolbar } from "../../components/Toolbar";
import { UrlTabs } from "../../components/UrlTabs";
import { useFormat, useI18n, type MessageKey } from "../../i18n";
import { ACTIVITY_COLUMNS, AIRTIME_COLUMNS, barLabel, PLAYLIST_COLUMNS } from "./columns";
import { FilesTab } from "./FilesTab";

const AirtimeChart = lazy(() => import("./AirtimeChart"));

const BY: { value: AirtimeBy; label: MessageKey }[] = [
  { value: "recording", label: "reports.byRecording" },
  { value: "artist", label: "reports.byArtist" },
  { value: "label", label: "reports.byLabel" },
  { value: "station", label: "reports.byStation" },
  { value: "recording_station", label: "reports.byRecordingStation" },
];

function PlaylistTab({ period, setPeriod }: { period: string; setPeriod: (p: string) => void }) {
  const { t, lang } = useI18n();
  const [station, setStation] = useState("");
  const report = usePlaylist(station, period);
  const query = { station, period, lang };
  const rows = report.data?.plays ?? [];
  const total = rows.reduce((sum, r) => sum + (typeof r.duration === "number" ? r.duration : 0), 0);
  const f = useFormat();
  return (
    <Box>
      <Toolbar
        actions={
          <>
            {(["pdf", "xlsx", "csv"] as const).map((format) => (
              <DownloadButton
                key={format}
                path="/api/v1/reports/playlist"
                query={{ ...query, format }}
                label={t("reports.download", { format: format.toUpperCase() })}
                disabled={station === "" || period === ""}
              />
            ))}
          </>
        }
      >
        <StationSelect value={station} onChange={setStation} />
        <PeriodField value={period} onChange={setPeriod} />
      </Toolbar>
      {station === "" && <Text>{t("reports.chooseStation")}</Text>}
      <QueryNotice query={report} />
      {report.isFetching && <Spinner aria-label={t("common.loading")} />}
      {report.data && (
        <Stack gap="2">
          <Text fontWeight="medium">
            {t("reports.playlistTotal", { count: rows.length, duration: f.duration(total) })}
          </Text>
          {rows.length > 0 && <DataTable columns={PLAYLIST_COLUMNS} rows={rows} caption={t("reports.playlist")} />}
          <Text fontSize="xs" color="fg.muted">
            {t("reports.finalOnly")} {t("common.zoneNote", { zone: report.data.timezone })}
          </Text>
        </Stack>
      )}
    </Box>
  );
}

function AirtimeTab({ period, setPeriod }: { period: string; setPeriod: (p: string) => void }) {
  const { t, lang } = useI18n();
  const f = useFormat();
  const [by, setBy] = useState<AirtimeBy>("recording");
  const [station, setStation] = useState("");
  const stations = station ? [station] : [];
  const report = useAirtime(period, by, stations);
  const items = report.data?.items;
  const bars = useMemo(
    () =>
      (items ?? []).slice(0, 15).map((row) => ({
        label: barLabel(by, row, t("reports.noValue")),
        value: Number(row.seconds ?? 0),
      })),
    [items, by, t],
  );
  const format = useCallback((seconds: number) => f.duration(seconds), [f]);
  const units = useMemo(() => ({ minutes: t("reports.minutes"), hours: t("reports.hours") }), [t]);
  return (
    <Box>
      <Toolbar
        actions={
          <>
            <DownloadButton
              path="/api/v1/reports/airtime"
              query={{ period, by: "all", station: stations, format: "xlsx", lang }}
              label={t("reports.downloadAllXlsx")}
              disabled={period === ""}
            />
            <DownloadButton
              path="/api/v1/reports/airtime"
              query={{ period, by, station: stations, format: "csv", lang }}
              label={t("reports.download", { format: "CSV" })}
              disabled={period === ""}
            />
          </>
        }
      >
        <PeriodField value={period} onChange={setPeriod} />
        <SelectField
          label={t("reports.by")}
          value={by}
          onChange={(v) => setBy(v as AirtimeBy)}
          options={BY.map((b) => ({ value: b.value, label: t(b.label) }))}
        />
        <StationSelect value={station} onChange={setStation} allowAll />
      </Toolbar>
      <QueryNotice query={report} />
      {report.isFetching && <Spinner aria-label={t("common.loading")} />}
      {items && items.length === 0 && <Text>{t("reports.empty")}</Text>}
      {items && items.length > 0 && (
        <Stack gap="4">
          <Box bg="white" p="3" borderWidth="1px" borderRadius="md">
            <Heading as="h3" size="sm" mb="2">
              {t("reports.chartTitle", { count: bars.length })}
            </Heading>
            <Suspense fallback={<Spinner aria-label={t("common.loading")} />}>
              <AirtimeChart
                bars={bars}
                label={t("reports.chartTitle", { count: bars.length })}
                format={format}
                units={units}
              />
            </Suspense>
          </Box>
          <DataTable columns={AIRTIME_COLUMNS[by]} rows={items} caption={t("reports.airtime")} />
          <Text fontSize="xs" color="fg.muted">
            {t("reports.finalOnly")}
          </Text>
        </Stack>
      )}
    </Box>
  );
}

function ActivityTab({ period, setPeriod }: { period: string; setPeriod: (p: string) => void }) {
  const { t, lang } = useI18n();
  const report = useActivity(period);
  return (
    <Box>
      <Toolbar
        actions={
          <>
            <DownloadButton
              path="/api/v1/reports/activity"
              query={{ period, format: "xlsx", lang }}
              label={t("reports.download", { format: "XLSX" })}
              disabled={period === ""}
            />
          </>
        }
      >
        <PeriodField value={period} onChange={setPeriod} />
      </Toolbar>
      <QueryNotice query={report} />
      {report.isFetching && <Spinner aria-label={t("common.loading")} />}
      {report.data && (
        <DataTable columns={ACTIVITY_COLUMNS} rows={report.data.stations} caption={t("reports.activity")} />
      )}
    </Box>
  );
}

export default function ReportsPage() {
  const { t } = useI18n();
  const f = useFormat();
  const [period, setPeriod] = useState(f.month());
  const props = { period, setPeriod };
  return (
    <Box>
      <Heading as="h1" size="2xl" mb="4">
        {t("reports.title")}
      </Heading>
      <UrlTabs
        tabs={[
          { value: "playlist", label: t("reports.playlist"), content: () => <PlaylistTab {...props} /> },
          { value: "airtime", label: t("reports.airtime"), content: () => <AirtimeTab {...props} /> },
          { value: "activity", label: t("reports.activity"), content: () => <ActivityTab {...props} /> },
          { value: "files", label: t("reports.files"), content: () => <FilesTab {...props} /> },
        ]}
      />
    </Box>
  );
}
