import { Badge, Box, Button, HStack, Table, Text } from "@chakra-ui/react";
import type { Play } from "../../api/types";
import { useFormat, useI18n } from "../../i18n";

/** A page of plays; each opens its evidence. */
export function PlayRows({ plays, onOpen }: { plays: Play[]; onOpen: (id: number) => void }) {
  const { t } = useI18n();
  const f = useFormat();
  return (
    <Table.ScrollArea borderWidth="1px" borderRadius="md" bg="white">
      <Table.Root size="sm" striped>
        <Table.Caption srOnly>{t("plays.caption")}</Table.Caption>
        <Table.Header>
          <Table.Row>
            <Table.ColumnHeader scope="col">{t("plays.col.start")}</Table.ColumnHeader>
            <Table.ColumnHeader scope="col">{t("common.station")}</Table.ColumnHeader>
            <Table.ColumnHeader scope="col">{t("plays.col.recording")}</Table.ColumnHeader>
            <Table.ColumnHeader scope="col">{t("plays.col.label")}</Table.ColumnHeader>
            <Table.ColumnHeader scope="col" textAlign="end">
              {t("plays.col.duration")}
            </Table.ColumnHeader>
            <Table.ColumnHeader scope="col" textAlign="end">
              {t("plays.col.confidence")}
            </Table.ColumnHeader>
            <Table.ColumnHeader scope="col">{t("plays.col.status")}</Table.ColumnHeader>
            <Table.ColumnHeader scope="col">
              <Box srOnly>{t("plays.col.actions")}</Box>
            </Table.ColumnHeader>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {plays.map((p) => (
            <Table.Row key={p.id}>
              <Table.Cell whiteSpace="nowrap">{f.dateTime(p.start_utc)}</Table.Cell>
              <Table.Cell>{p.station}</Table.Cell>
              <Table.Cell>
                <Text fontWeight="medium">{p.title}</Text>
                <Text fontSize="xs" color="fg.muted">
                  {p.artist}
                  {p.isrc ? ` · ${p.isrc}` : ""}
                </Text>
              </Table.Cell>
              <Table.Cell>{p.label ?? ""}</Table.Cell>
              <Table.Cell textAlign="end">{f.duration(p.duration)}</Table.Cell>
              <Table.Cell textAlign="end">{f.percent(p.confidence * 100, 0)}</Table.Cell>
              <Table.Cell>
                <HStack gap="1">
                  <Badge colorPalette={p.final ? "green" : "yellow"}>{t(p.final ? "plays.final" : "plays.open")}</Badge>
                  {p.flag && <Badge colorPalette="red">{t("plays.flagged")}</Badge>}
                </HStack>
              </Table.Cell>
              <Table.Cell>
                <Button
                  size="xs"
                  variant="outline"
                  onClick={() => onOpen(p.id)}
                  aria-label={t("plays.evidenceFor", { title: p.title, time: f.dateTime(p.start_utc) })}
                >
                  {t("plays.evidence")}
                </Button>
              </Table.Cell>
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
    </Table.ScrollArea>
  );
}
