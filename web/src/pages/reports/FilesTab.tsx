import { Badge, Box, Button, Spinner, Stack, Text } from "@chakra-ui/react";
import { useState } from "react";
import { useGenerateFiles, useReportFiles } from "../../api/reports";
import { Can } from "../../auth/session";
import { DownloadButton } from "../../components/buttons";
import { PeriodField, SelectField, StationSelect } from "../../components/fields";
import { ListTable } from "../../components/ListTable";
import { Notice, QueryNotice } from "../../components/Notice";
import { Toolbar } from "../../components/Toolbar";
import { useFormat, useI18n } from "../../i18n";

const baseName = (name: string) => name.split("/").pop() ?? name;

/** The monthly and semester files the collector writes, and a button to regenerate them. */
export function FilesTab({ period, setPeriod }: { period: string; setPeriod: (p: string) => void }) {
  const { t, lang } = useI18n();
  const f = useFormat();
  const files = useReportFiles(period);
  const generate = useGenerateFiles();
  const [station, setStation] = useState("");
  const [fileLang, setFileLang] = useState<"fr" | "en">(lang);
  const changed = generate.data?.files.filter((x) => x.changed).length ?? 0;
  return (
    <Box>
      <Toolbar
        actions={
          <>
            <Can do="reports.generate">
              <Button
                size="sm"
                colorPalette="green"
                loading={generate.isPending}
                disabled={period === ""}
                onClick={() => generate.mutate({ period, station: station || null, lang: fileLang })}
              >
                {t("reports.regenerate")}
              </Button>
            </Can>
          </>
        }
      >
        <PeriodField value={period} onChange={setPeriod} />
        <Can do="reports.generate">
          <StationSelect value={station} onChange={setStation} allowAll />
          <SelectField
            label={t("reports.fileLang")}
            value={fileLang}
            onChange={(v) => setFileLang(v === "en" ? "en" : "fr")}
            options={[
              { value: "fr", label: t("nav.french") },
              { value: "en", label: t("nav.english") },
            ]}
          />
        </Can>
      </Toolbar>
      <Stack gap="3">
        {generate.isError && <Notice status="error" title={t("reports.regenerateFailed")} error={generate.error} />}
        {generate.isSuccess && (
          <Notice status="success" title={t("reports.regenerated", { count: generate.data.files.length, changed })} />
        )}
        <QueryNotice query={files} />
        {files.isPending && <Spinner aria-label={t("common.loading")} />}
        {files.data && files.data.files.length === 0 && <Text>{t("reports.noFiles")}</Text>}
        {files.data && files.data.files.length > 0 && (
          <ListTable
            caption={t("reports.files")}
            rows={files.data.files}
            rowKey={(file) => file.id}
            columns={[
              {
                header: t("reports.file"),
                render: (file) => (
                  <>
                    <Text fontWeight="medium">{file.title}</Text>
                    <Text fontSize="xs" color="fg.muted">
                      {baseName(file.name)} · {f.number(file.size / 1024, 0)} {t("reports.kb")}
                    </Text>
                  </>
                ),
              },
              { header: t("common.period"), render: (file) => file.period },
              {
                header: t("reports.scope"),
                render: (file) => (
                  <>
                    {file.scope === "all" ? t("common.allStations") : file.scope}{" "}
                    <Badge>{file.format.toUpperCase()}</Badge>{" "}
                    <Badge variant="outline">{file.lang.toUpperCase()}</Badge>
                  </>
                ),
              },
              {
                header: t("reports.rows"),
                numeric: true,
                render: (file) => (file.rows == null ? "" : f.number(file.rows)),
              },
              { header: t("reports.generatedAt"), render: (file) => f.dateTime(file.generated_at) },
              {
                header: t("plays.col.actions"),
                actions: true,
                render: (file) => (
                  <DownloadButton
                    path={`/api/v1/reports/files/${file.id}`}
                    query={{}}
                    label={t("reports.downloadFile")}
                    aria-label={t("reports.downloadNamed", { name: baseName(file.name) })}
                  />
                ),
              },
            ]}
          />
        )}
      </Stack>
    </Box>
  );
}
