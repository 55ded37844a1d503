import { Badge, Box, Field, Flex, Heading, HStack, Input, Spinner, Text, Wrap } from "@chakra-ui/react";
import { useDeferredValue, useMemo, useState } from "react";
import { useLiveEvents, type LiveState } from "../../api/events";
import { useStationStatus } from "../../api/stations";
import type { StationState } from "../../api/types";
import { CheckboxField } from "../../components/fields";
import { QueryNotice } from "../../components/Notice";
import { STATE_LABEL } from "../../components/StateBadge";
import { useNow } from "../../components/useNow";
import { useT, type MessageKey } from "../../i18n";
import { StationTable } from "./StationTable";
import { byUrgency, countByState, isProblem, STATE_COLOR, URGENCY } from "./urgency";

const LIVE: Record<LiveState, { label: MessageKey; color: string }> = {
  connecting: { label: "live.connecting", color: "gray" },
  live: { label: "live.live", color: "green" },
  offline: { label: "live.offline", color: "orange" },
};

export function OverviewPage() {
  const t = useT();
  const live = useLiveEvents();
  // while the live stream is down, refresh every minute so the page never goes stale
  const query = useStationStatus({ refetchInterval: live === "live" ? false : 60_000 });
  const now = useNow();
  const [search, setSearch] = useState("");
  const [problemsOnly, setProblemsOnly] = useState(false);
  const needle = useDeferredValue(search.trim().toLowerCase());

  const all = query.data;
  const stations = useMemo(() => {
    const list = (all ?? []).filter(
      (s) =>
        (!problemsOnly || isProblem(s)) &&
        (needle === "" || s.name.toLowerCase().includes(needle) || s.station.includes(needle)),
    );
    return list.sort(byUrgency);
  }, [all, problemsOnly, needle]);
  const counts = useMemo(() => countByState(all ?? []), [all]);

  return (
    <Box>
      <Flex align="center" gap="3" mb="4" wrap="wrap">
        <Heading as="h1" size="2xl">
          {t("overview.title")}
        </Heading>
        <Badge colorPalette={LIVE[live].color} variant="outline" aria-live="polite">
          {t(LIVE[live].label)}
        </Badge>
        {query.isFetching && <Spinner size="xs" aria-label={t("common.loading")} />}
      </Flex>
      <QueryNotice query={query} />
      {all && (
        <>
          <Wrap gap="2" mb="4" aria-label={t("overview.summary")} role="list">
            {(Object.keys(URGENCY) as StationState[]).map((state) => (
              <Badge key={state} role="listitem" colorPalette={STATE_COLOR[state]} size="lg" variant="subtle">
                {t(STATE_LABEL[state])}: {counts[state]}
              </Badge>
            ))}
          </Wrap>
          <HStack gap="6" mb="3" wrap="wrap" align="end">
            <Field.Root maxW="xs">
              <Field.Label>{t("overview.search")}</Field.Label>
              <Input size="sm" bg="white" value={search} onChange={(e) => setSearch(e.target.value)} />
            </Field.Root>
            <CheckboxField label={t("overview.problemsOnly")} checked={problemsOnly} onChange={setProblemsOnly} />
            <Text fontSize="sm" color="fg.muted" aria-live="polite">
              {t("overview.shown", { count: stations.length, total: all.length })}
            </Text>
          </HStack>
          {stations.length === 0 ? <Text>{t("overview.empty")}</Text> : <StationTable stations={stations} now={now} />}
        </>
      )}
      {query.isPending && <Spinner aria-label={t("common.loading")} />}
    </Box>
  );
}
