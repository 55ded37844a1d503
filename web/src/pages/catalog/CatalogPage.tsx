import { Box, Button, Flex, Heading, HStack, Link, Spinner, Text } from "@chakra-ui/react";
import { useDeferredValue, useState } from "react";
import { Link as RouterLink, useSearchParams } from "react-router";
import { useRecordings } from "../../api/catalog";
import { Can } from "../../auth/session";
import { TextField } from "../../components/fields";
import { ListTable } from "../../components/ListTable";
import { QueryNotice } from "../../components/Notice";
import { Pager } from "../../components/Pager";
import { useFormat, useT } from "../../i18n";
import { AddRecording } from "./AddRecording";

const PAGE_SIZE = 50;

export default function CatalogPage() {
  const t = useT();
  const f = useFormat();
  const [params, setParams] = useSearchParams();
  const [q, setQ] = useState(params.get("q") ?? "");
  const [adding, setAdding] = useState(false);
  const page = Math.max(1, Number(params.get("page") ?? 1) || 1);
  const search = useDeferredValue(q.trim());
  const recordings = useRecordings(search, page, PAGE_SIZE);
  const setSearch = (value: string) => {
    setQ(value);
    setParams(value.trim() ? { q: value.trim() } : {}, { replace: true });
  };
  return (
    <Box>
      <Flex align="center" gap="3" mb="4" wrap="wrap">
        <Heading as="h1" size="2xl">
          {t("catalog.title")}
        </Heading>
        <Can do="catalog.write">
          <Button size="sm" colorPalette="green" ml="auto" onClick={() => setAdding(true)}>
            {t("catalog.add")}
          </Button>
        </Can>
      </Flex>
      <HStack mb="3" align="end" gap="4">
        <TextField
          label={t("catalog.search")}
          help={t("catalog.searchHelp")}
          value={q}
          onChange={setSearch}
          type="search"
          maxW="md"
        />
        {recordings.isFetching && <Spinner size="xs" aria-label={t("common.loading")} />}
      </HStack>
      <QueryNotice query={recordings} />
      {recordings.data && (
        <>
          <Text mb="2" aria-live="polite">
            {t("catalog.total", { count: recordings.data.total })}
          </Text>
          <ListTable
            caption={t("catalog.title")}
            rows={recordings.data.items}
            rowKey={(r) => r.external_id}
            striped
            columns={[
              {
                header: t("col.externalId"),
                render: (r) => (
                  <Link asChild color="green.800" fontWeight="medium">
                    <RouterLink to={`/catalog/${encodeURIComponent(r.external_id)}`}>{r.external_id}</RouterLink>
                  </Link>
                ),
              },
              { header: t("col.title"), render: (r) => r.title },
              { header: t("col.artist"), render: (r) => r.artist },
              { header: t("col.isrc"), render: (r) => r.isrc ?? "" },
              { header: t("col.label"), render: (r) => r.label ?? "" },
              { header: t("col.duration"), numeric: true, render: (r) => f.duration(r.duration) },
            ]}
          />
          <Pager
            page={page}
            pageSize={PAGE_SIZE}
            total={recordings.data.total}
            onPage={(next) => setParams({ ...(search ? { q: search } : {}), page: String(next) })}
          />
        </>
      )}
      <Can do="catalog.write">
        <AddRecording open={adding} onClose={() => setAdding(false)} />
      </Can>
    </Box>
  );
}
