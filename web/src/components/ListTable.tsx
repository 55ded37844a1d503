// The pages' tables: a caption for screen readers, one header per column, a row per item.
import { Box, Table } from "@chakra-ui/react";
import type { ReactNode } from "react";

export interface Column<T> {
  header: string;
  render: (row: T) => ReactNode;
  numeric?: boolean;
  /** a column of buttons: its header is read by screen readers, not shown */
  actions?: boolean;
  nowrap?: boolean;
}

interface Props<T> {
  caption: string;
  columns: Column<T>[];
  rows: readonly T[];
  rowKey: (row: T, index: number) => string | number;
  striped?: boolean;
  /** a scrolling table with its header kept in view */
  maxH?: string;
}

export function ListTable<T>({ caption, columns, rows, rowKey, striped, maxH }: Props<T>) {
  return (
    <Table.ScrollArea borderWidth="1px" borderRadius="md" bg="white" maxH={maxH}>
      <Table.Root size="sm" striped={striped} stickyHeader={maxH !== undefined}>
        <Table.Caption srOnly>{caption}</Table.Caption>
        <Table.Header>
          <Table.Row>
            {columns.map((c) => (
              <Table.ColumnHeader key={c.header} scope="col" textAlign={c.numeric ? "end" : "start"}>
                {c.actions ? <Box srOnly>{c.header}</Box> : c.header}
              </Table.ColumnHeader>
            ))}
          </Table.Row>
        </Table.Header>
        <Table.Body>
          {rows.map((row, i) => (
            <Table.Row key={rowKey(row, i)} verticalAlign="top">
              {columns.map((c) => (
                <Table.Cell
                  key={c.header}
                  textAlign={c.numeric ? "end" : "start"}
                  whiteSpace={c.nowrap ? "nowrap" : undefined}
                >
                  {c.render(row)}
                </Table.Cell>
              ))}
            </Table.Row>
          ))}
        </Table.Body>
      </Table.Root>
    </Table.ScrollArea>
  );
}
