import { Box, Heading, Spinner, Stack, Text } from "@chakra-ui/react";
import { useState } from "react";
import { useUnidentified } from "../../api/reports";
import { DownloadButton } from "../../components/buttons";
import { DataTable } from "../../components/DataTable";
import { PeriodField, StationSelect } from "../../components/fields";
import { Notice, QueryNotice } from "../../components/Notice";
import { Toolbar } from "../../components/Toolbar";
import { UrlTabs } from "../../components/UrlTabs";
import { useFormat, useI18n, useT } from "../../i18n";
import { STRETCH_COLUMNS, UNIDENTIFIED_COLUMNS } from "../reports/columns";
import { QueueTab } from "./QueueTab";

/** Music the catalog does not name: the labelling queue (songs AcoustID and AudD suggested a
 * name for, to accept, correct or reject) and the unidentified-music report (the passages). */
export default function UnknownsPage() {
  const t = useT();
  return (
    <Box>
      <Heading as="h1" size="2xl" mb="2">
        {t("unknowns.title")}
      </Heading>
      <UrlTabs
        tabs={[
          { value: "queue", label: t("unknowns.tabQueue"), content: () => <QueueTab /> },
          { value: "report", label: t("unknowns.tabReport"), content: () => <UnidentifiedTab /> },
        ]}
      />
    </Box>
  );
}

function UnidentifiedTab() {
  const { t, lang } = useI18n();
  const f = useFormat();
  const [period, setPeriod] = useState(f.today());
  const [station, setStation] = useState("");
  const stations = station ? [station] : [];
  const report = useUnidentified(period, stations);
  return (
    <Box>
      <Text mb="4" color="fg.muted" maxW="3xl">
        {t("unknowns.intro")}
      </Text>
      <Toolbar
        actions={
          <>
            <DownloadButton
              path="/api/v1/reports/unidentified"
              query={{ period, station: stations, format: "xlsx", lang }}
              label={t("reports.download", { format: "XLSX" })}
              disabled={period === ""}
            />
          </>
        }
      >
        <PeriodField value={period} onChange={setPeriod} />
        <StationSelect value={station} onChange={setStation} allowAll />
      </Toolbar>
      <QueryNotice query={report} />
      {report.isFetching && <Spinner aria-label={t("common.loading")} />}
      {report.data && (
        <Stack gap="5">
          <DataTable columns={UNIDENTIFIED_COLUMNS} rows={report.data.stations} caption={t("unknowns.perStation")} />
          <Heading as="h2" size="lg">
            {t("unknowns.stretches", { count: report.data.stretches.length })}
          </Heading>
          {report.data.stretches.length === 0 ? (
            <Notice status="success" title={t("unknowns.none")} />
          ) : (
            <DataTable
              columns={STRETCH_COLUMNS}
              rows={report.data.stretches}
              caption={t("unknowns.stretchesCaption")}
            />
          )}
          <Text fontSize="xs" color="fg.muted">
            {t("unknowns.levelNote", { level: f.dbfs(report.data.min_level_dbfs) })}{" "}
            {t("common.zoneNote", { zone: report.data.timezone })}
          </Text>
        </Stack>
      )}
    </Box>
  );
}
