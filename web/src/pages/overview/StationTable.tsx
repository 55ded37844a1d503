// The overview's table. Rows are plain HTML styled once from the table (one style sheet for
// 300 rows, not one CSS-in-JS computation per cell): the overview with 300 stations must
// render in well under a second (scripts/bench_overview.py).
import { Table } from "@chakra-ui/react";
import { memo, type MouseEvent } from "react";
import { useNavigate } from "react-router";
import type { StationStatus } from "../../api/types";
import { STATE_LABEL } from "../../components/StateBadge";
import { useFormat, useT } from "../../i18n";
import { STATE_COLOR } from "./urgency";

/** −60 dBFS (near silence) to 0 dBFS as 0–100 %. */
function levelWidth(dbfs: number): string {
  return `${Math.max(0, Math.min(100, ((dbfs + 60) / 60) * 100)).toFixed(0)}%`;
}

const stateCss = Object.fromEntries(
  Object.entries(STATE_COLOR).map(([state, color]) => [
    `& .state[data-state=${state}]`,
    state === "online" ? { bg: `${color}.100`, color: `${color}.800` } : { bg: `${color}.600`, color: "white" },
  ]),
);

const tableCss = {
  "& td": { px: "3", py: "2", borderBottomWidth: "1px", borderColor: "border", verticalAlign: "top", fontSize: "sm" },
  "& .sub": { fontSize: "xs", color: "fg.muted" },
  "& .muted": { color: "fg.muted" },
  "& .name": { fontWeight: "semibold", color: "green.800", _hover: { textDecoration: "underline" } },
  "& .state": { display: "inline-block", px: "1.5", borderRadius: "sm", fontSize: "xs", fontWeight: "medium" },
  "& .clip": { maxW: "22rem", overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  "& .level": { h: "1.5", w: "24", bg: "gray.200", borderRadius: "full" },
  "& .level > div": { h: "full", bg: "green.500", borderRadius: "full" },
  ...stateCss,
};

const Row = memo(function Row({ s, now }: { s: StationStatus; now: Date }) {
  const t = useT();
  const f = useFormat();
  return (
    <tr>
      <td>
        <a className="name" href={`/stations/${encodeURIComponent(s.station)}`}>
          {s.name}
        </a>
        <div className="sub">{s.station}</div>
      </td>
      <td>
        <span className="state" data-state={s.state}>
          {t(STATE_LABEL[s.state])}
        </span>
        {s.detail && (
          <div className="sub clip" title={s.detail}>
            {s.detail}
          </div>
        )}
      </td>
      <td>
        {s.since ? (
          <>
            <div>{f.since(s.since, now)}</div>
            <div className="sub">{f.dateTime(s.since)}</div>
          </>
        ) : (
          <span className="muted">{t("common.never")}</span>
        )}
      </td>
      <td>
        {s.level_dbfs == null ? (
          <span className="muted">{t("common.unknown")}</span>
        ) : (
          <>
            <div>{f.dbfs(s.level_dbfs)}</div>
            <div className="level" aria-hidden="true">
              <div style={{ width: levelWidth(s.level_dbfs) }} />
            </div>
          </>
        )}
      </td>
      <td>
        {s.last_play ? (
          <>
            <div className="clip">
              {t("overview.lastPlayText", { title: s.last_play.title, artist: s.last_play.artist })}
            </div>
            <div className="sub">
              {f.dateTime(s.last_play.start)}
              {s.last_play.status === "open" ? ` · ${t("plays.open")}` : ""}
            </div>
          </>
        ) : (
          <span className="muted">{t("common.none")}</span>
        )}
      </td>
      <td>
        {s.last_heartbeat_at ? f.since(s.last_heartbeat_at, now) : <span className="muted">{t("common.never")}</span>}
      </td>
    </tr>
  );
});

/** Plain links, followed in the app by one handler for the whole table (a router Link per row
 * costs more than the rest of the row). Modified clicks open a tab as usual. */
function useLinkClicks() {
  const navigate = useNavigate();
  return (event: MouseEvent) => {
    const link = (event.target as HTMLElement).closest("a");
    if (!link || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(link.getAttribute("href") ?? "/");
  };
}

export function StationTable({ stations, now }: { stations: readonly StationStatus[]; now: Date }) {
  const t = useT();
  const onClick = useLinkClicks();
  return (
    <Table.ScrollArea borderWidth="1px" borderRadius="md" bg="white">
      <Table.Root size="sm" stickyHeader css={tableCss}>
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
        {/* delegation for the links inside: Enter on a link fires the same click */}
        {/* eslint-disable-next-line jsx-a11y/click-events-have-key-events, jsx-a11y/no-noninteractive-element-interactions */}
        <tbody onClick={onClick}>
          {stations.map((s) => (
            <Row key={s.station} s={s} now={now} />
          ))}
        </tbody>
      </Table.Root>
    </Table.ScrollArea>
  );
}
