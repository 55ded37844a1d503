// A table of report rows (the JSON of /api/v1/reports/*), each column formatted by its kind.
import { Text } from "@chakra-ui/react";
import type { ReactNode } from "react";
import type { Cell, Row } from "../api/types";
import { useFormat, useT, type MessageKey } from "../i18n";
import { ListTable } from "./ListTable";

export type Kind = "text" | "int" | "seconds" | "hours" | "percent" | "dbfs" | "date" | "time";

export interface ColumnDef {
  key: string;
  label: MessageKey;
  kind?: Kind;
  render?: (row: Row) => ReactNode;
}

const NUMERIC: ReadonlySet<Kind> = new Set(["int", "seconds", "hours", "percent", "dbfs"]);

export function DataTable({ columns, rows, caption }: { columns: ColumnDef[]; rows: Row[]; caption: string }) {
  const t = useT();
  const f = useFormat();
  const show = (value: Cell, kind: Kind): ReactNode => {
    if (value === null || value === "")
      return (
        <Text as="span" color="fg.muted">
          {t("common.dash")}
        </Text>
      );
    if (typeof value === "number") {
      if (kind === "seconds") return f.duration(value);
      if (kind === "hours") return f.duration(value * 3600);
      if (kind === "percent") return f.percent(value);
      if (kind === "dbfs") return f.dbfs(value);
      return f.number(value);
    }
    if (kind === "date") return f.day(value);
    return value;
  };
  return (
    <ListTable
      caption={caption}
      rows={rows}
      rowKey={(_, i) => i}
      striped
      maxH="60vh"
      columns={columns.map((c) => ({
        header: t(c.label),
        numeric: NUMERIC.has(c.kind ?? "text"),
        render: c.render ?? ((row: Row) => show(row[c.key] ?? null, c.kind ?? "text")),
      }))}
    />
  );
}
