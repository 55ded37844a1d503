import { Badge, Button, HStack, Text } from "@chakra-ui/react";
import type { Play } from "../../api/types";
import { ListTable } from "../../components/ListTable";
import { useFormat, useI18n } from "../../i18n";

/** A page of plays; each opens its evidence. */
export function PlayRows({ plays, onOpen }: { plays: Play[]; onOpen: (id: number) => void }) {
  const { t } = useI18n();
  const f = useFormat();
  return (
    <ListTable
      caption={t("plays.caption")}
      rows={plays}
      rowKey={(p) => p.id}
      striped
      columns={[
        { header: t("plays.col.start"), nowrap: true, render: (p) => f.dateTime(p.start_utc) },
        { header: t("common.station"), render: (p) => p.station },
        {
          header: t("plays.col.recording"),
          render: (p) => (
            <>
              <Text fontWeight="medium">{p.title}</Text>
              <Text fontSize="xs" color="fg.muted">
                {p.artist}
                {p.isrc ? ` · ${p.isrc}` : ""}
              </Text>
            </>
          ),
        },
        { header: t("plays.col.label"), render: (p) => p.label ?? "" },
        { header: t("plays.col.duration"), numeric: true, render: (p) => f.duration(p.duration) },
        { header: t("plays.col.confidence"), numeric: true, render: (p) => f.percent(p.confidence * 100, 0) },
        {
          header: t("plays.col.status"),
          render: (p) => (
            <HStack gap="1">
              <Badge colorPalette={p.final ? "green" : "yellow"}>{t(p.final ? "plays.final" : "plays.open")}</Badge>
              {p.flag && <Badge colorPalette="red">{t("plays.flagged")}</Badge>}
            </HStack>
          ),
        },
        {
          header: t("plays.col.actions"),
          actions: true,
          render: (p) => (
            <Button
              size="xs"
              variant="outline"
              onClick={() => onOpen(p.id)}
              aria-label={t("plays.evidenceFor", { title: p.title, time: f.dateTime(p.start_utc) })}
            >
              {t("plays.evidence")}
            </Button>
          ),
        },
      ]}
    />
  );
}
