import { Box, Link, Table, Text } from "@chakra-ui/react";
import { memo } from "react";
import { Link as RouterLink } from "react-router";
import type { StationStatus } from "../../api/types";
import { StateBadge } from "../../components/StateBadge";
import { useFormat, useT } from "../../i18n";

/** −60 dBFS (near silence) to 0 dBFS as 0–100 %. */
function levelWidth(dbfs: number): string {
  return `${Math.max(0, Math.min(100, ((dbfs + 60) / 60) * 100)).toFixed(0)}%`;
}

const Row = memo(function Row({ s, now }: { s: StationStatus; now: Date }) {
  const t = useT();
  const f = useFormat();
  return (
    <Table.Row>
      <Table.Cell>
        <Link asChild fontWeight="semibold" color="green.800">
          <RouterLink to={`/stations/${encodeURIComponent(s.station)}`}>{s.name}</RouterLink>
        </Link>
        <Text fontSize="xs" color="fg.muted">
          {s.station}
        </Text>
      </Table.Cell>
      <Table.Cell>
        <StateBadge state={s.state} />
        {s.detail && (
          <Text fontSize="xs" color="fg.muted" maxW="16rem" truncate title={s.detail}>
            {s.detail}
          </Text>
        )}
      </Table.Cell>
      <Table.Cell>
        {s.since ? (
          <>
            <Text>{f.since(s.since, now)}</Text>
            <Text fontSize="xs" color="fg.muted">
              {f.dateTime(s.since)}
            </Text>
          </>
        ) : (
          <Text color="fg.muted">{t("common.never")}</Text>
        )}
      </Table.Cell>
      <Table.Cell>
        {s.level_dbfs == null ? (
          <Text color="fg.muted">{t("common.unknown")}</Text>
        ) : (
          <Box>
            <Text fontSize="sm">{f.dbfs(s.level_dbfs)}</Text>
            <Box h="1.5" w="24" bg="gray.200" borderRadius="full" aria-hidden="true">
              <Box h="full" w={levelWidth(s.level_dbfs)} bg="green.500" borderRadius="full" />
            </Box>
          </Box>
        )}
      </Table.Cell>
      <Table.Cell>
        {s.last_play ? (
          <>
            <Text truncate maxW="22rem">
              {t("overview.lastPlayText", { title: s.last_play.title, artist: s.last_play.artist })}
            </Text>
            <Text fontSize="xs" color="fg.muted">
              {f.dateTime(s.last_play.start)}
              {s.last_play.status === "open" ? ` · ${t("plays.open")}` : ""}
            </Text>
          </>
        ) : (
          <Text color="fg.muted">{t("common.none")}</Text>
        )}
      </Table.Cell>
      <Table.Cell>
        {s.last_heartbeat_at ? f.since(s.last_heartbeat_at, now) : <Text color="fg.muted">{t("common.never")}</Text>}
      </Table.Cell>
    </Table.Row>
  );
});

export function StationTable({ stations, now }: { stations: readonly StationStatus[]; now: Date }) {
  const t = useT();
  return (
    <Table.ScrollArea borderWidth="1px" borderRadius="md" bg="white">
      <Table.Root size="sm" stickyHeader>
        <Table.Caption srOnly>{t("overview.caption")}</Table.Caption>
        <Table.Header>
          <Table.Row>
            <Table.ColumnHeader scope="col">{t("overview.col.station")}</Table.ColumnHeader>
            <Table.ColumnHeader scope="col">{t("overview.col.state")}</Table.ColumnHeader>
            <Table.ColumnHeader scope="col">{t("overview.col.since")}</Table.ColumnHeader>
            <Table.ColumnHeader scope="col">{t("overview.col.level")}</Table.ColumnHeader>
            <Table.ColumnHeader scope="col">{t("overview.col.lastPlay")}</Table.ColumnHeader>
            <Table.ColumnHeader scope="col">{t("overview.col.heartbeat")}</Table.ColumnHeader>
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {stations.map((s) => (
            <Row key={s.station} s={s} now={now} />
          ))}
        </Table.Body>
      </Table.Root>
    </Table.ScrollArea>
  );
}
