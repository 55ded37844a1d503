import { Box, Button, Flex, Heading, HStack, Input, Link, SimpleGrid, Spinner, Stat, Text } from "@chakra-ui/react";
import { Link as RouterLink, useParams, useSearchParams } from "react-router";
import { useStationStatus, useTimeline } from "../../api/stations";
import type { Timeline } from "../../api/types";
import { SelectField } from "../../components/fields";
import { ListTable } from "../../components/ListTable";
import { QueryNotice } from "../../components/Notice";
import { StateBadge } from "../../components/StateBadge";
import { useNow } from "../../components/useNow";
import { useFormat, useT } from "../../i18n";
import { useState } from "react";
import { DayTimeline, KIND_LABEL } from "./DayTimeline";
import { byKind, HOUR, SPANS, titlesDuring, windowAround } from "./timeline";

function shiftDay(day: string, days: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function RecentPlays({ timeline }: { timeline: Timeline }) {
  const t = useT();
  const f = useFormat();
  const now = useNow(60_000);
  const plays = byKind(timeline.items, ["play"]).reverse().slice(0, 20);
  if (plays.length === 0) return <Text color="fg.muted">{t("station.noPlays")}</Text>;
  return (
    <ListTable
      caption={t("station.recentPlays")}
      rows={plays}
      rowKey={(p) => p.play_id ?? p.start}
      columns={[
        { header: t("plays.col.start"), render: (p) => f.time(p.start) },
        {
          header: t("plays.col.duration"),
          render: (p) => f.duration((Date.parse(p.end) - Date.parse(p.start)) / 1000),
        },
        {
          header: t("station.detected"),
          render: (p) => (
            <>
              <Text fontWeight="medium">{p.title}</Text>
              <Text fontSize="xs" color="fg.muted">
                {p.artist}
              </Text>
            </>
          ),
        },
        {
          header: t("station.icy"),
          render: (p) => {
            const icy = titlesDuring(timeline.titles, p.start, p.end, now.getTime());
            if (icy.length === 0) return <Text color="fg.muted">{t("common.dash")}</Text>;
            return icy.map((title) => (
              <Text key={title.start} fontSize="sm">
                {title.title}
              </Text>
            ));
          },
        },
      ]}
    />
  );
}

function Faults({ timeline }: { timeline: Timeline }) {
  const t = useT();
  const f = useFormat();
  const faults = byKind(timeline.items, ["outage", "silence"]);
  if (faults.length === 0) return <Text color="fg.muted">{t("station.noFaults")}</Text>;
  return (
    <ListTable
      caption={t("station.faults")}
      rows={faults}
      rowKey={(item) => `${item.kind}-${item.start}`}
      columns={[
        { header: t("station.kind"), render: (item) => t(KIND_LABEL[item.kind]) },
        { header: t("plays.col.start"), render: (item) => f.time(item.start) },
        { header: t("plays.col.end"), render: (item) => f.time(item.end) },
        { header: t("station.reason"), render: (item) => item.reason ?? "" },
      ]}
    />
  );
}

/** The timeline with its zoom: the whole day, 6 hours or 1 hour, starting where the user
 * picks (by default around the latest thing heard). */
function ZoomedTimeline({ timeline }: { timeline: Timeline }) {
  const t = useT();
  const f = useFormat();
  const [span, setSpan] = useState<number>(SPANS[0]);
  const last = timeline.items.at(-1);
  const [at, setAt] = useState(() => (last ? Date.parse(last.start) : Date.parse(timeline.start)));
  const { from, to } = windowAround(timeline.start, span, at);
  const d0 = Date.parse(timeline.start);
  const starts = Array.from({ length: Math.round((24 * HOUR) / span) }, (_, k) => d0 + k * span);
  return (
    <Box>
      <HStack gap="4" mb="2" align="end" wrap="wrap">
        <SelectField
          label={t("timeline.span")}
          value={String(span)}
          onChange={(v) => setSpan(Number(v))}
          options={SPANS.map((ms) => ({ value: String(ms), label: t("timeline.hours", { count: ms / HOUR }) }))}
          maxW="10rem"
        />
        {span < SPANS[0] && (
          <SelectField
            label={t("timeline.from")}
            value={String(from)}
            onChange={(v) => setAt(Number(v))}
            options={starts.map((ms) => ({
              value: String(ms),
              label: `${f.hourMinute(new Date(ms))}–${f.hourMinute(new Date(ms + span))}`,
            }))}
            maxW="10rem"
          />
        )}
      </HStack>
      <DayTimeline timeline={timeline} from={new Date(from).toISOString()} to={new Date(to).toISOString()} />
    </Box>
  );
}

export default function StationPage() {
  const t = useT();
  const f = useFormat();
  const now = useNow();
  const { slug = "" } = useParams();
  const [params, setParams] = useSearchParams();
  const date = params.get("date") ?? f.today();
  const status = useStationStatus().data?.find((s) => s.station === slug);
  const timeline = useTimeline(slug, date);
  const setDate = (day: string) => setParams(day === f.today() ? {} : { date: day }, { replace: true });
  const data = timeline.data;
  const plays = data ? byKind(data.items, ["play"]).length : 0;

  return (
    <Box>
      <Flex align="center" gap="3" wrap="wrap" mb="2">
        <Heading as="h1" size="2xl">
          {status?.name ?? data?.name ?? slug}
        </Heading>
        {status && <StateBadge state={status.state} />}
        {status?.since && (
          <Text color="fg.muted" fontSize="sm">
            {t("station.stateSince", { since: f.since(status.since, now) })}
          </Text>
        )}
      </Flex>
      <HStack as="nav" aria-label={t("station.dayNav")} gap="2" mb="4" wrap="wrap">
        <Button size="sm" variant="outline" onClick={() => setDate(shiftDay(date, -1))}>
          {t("station.previousDay")}
        </Button>
        <Input
          type="date"
          size="sm"
          w="auto"
          bg="white"
          aria-label={t("station.day")}
          value={date}
          max={f.today()}
          onChange={(e) => e.target.value && setDate(e.target.value)}
        />
        <Button size="sm" variant="outline" disabled={date >= f.today()} onClick={() => setDate(shiftDay(date, 1))}>
          {t("station.nextDay")}
        </Button>
        <Button size="sm" variant="ghost" disabled={date === f.today()} onClick={() => setDate(f.today())}>
          {t("station.today")}
        </Button>
        <Link asChild fontSize="sm" color="green.800" ml="auto">
          <RouterLink to={`/plays?station=${encodeURIComponent(slug)}&period=${date}`}>
            {t("station.allPlays")}
          </RouterLink>
        </Link>
      </HStack>
      <QueryNotice query={timeline} />
      {timeline.isPending && <Spinner aria-label={t("common.loading")} />}
      {data && (
        <>
          <SimpleGrid columns={{ base: 2, md: 4 }} gap="3" mb="4">
            <Stat.Root bg="white" p="3" borderWidth="1px" borderRadius="md">
              <Stat.Label>{t("station.monitoredShare")}</Stat.Label>
              <Stat.ValueText>{f.percent(data.monitored_share)}</Stat.ValueText>
            </Stat.Root>
            <Stat.Root bg="white" p="3" borderWidth="1px" borderRadius="md">
              <Stat.Label>{t("station.monitored")}</Stat.Label>
              <Stat.ValueText>{f.duration(data.monitored_seconds)}</Stat.ValueText>
            </Stat.Root>
            <Stat.Root bg="white" p="3" borderWidth="1px" borderRadius="md">
              <Stat.Label>{t("station.plays")}</Stat.Label>
              <Stat.ValueText>{f.number(plays)}</Stat.ValueText>
            </Stat.Root>
            <Stat.Root bg="white" p="3" borderWidth="1px" borderRadius="md">
              <Stat.Label>{t("station.level")}</Stat.Label>
              <Stat.ValueText>
                {status?.level_dbfs == null ? t("common.dash") : f.dbfs(status.level_dbfs)}
              </Stat.ValueText>
            </Stat.Root>
          </SimpleGrid>
          <ZoomedTimeline key={data.date} timeline={data} />
          <Text fontSize="xs" color="fg.muted" mt="1">
            {t("common.zoneNote", { zone: data.timezone })}
          </Text>
          <Heading as="h2" size="lg" mt="6" mb="2">
            {t("station.recentPlays")}
          </Heading>
          <RecentPlays timeline={data} />
          <Heading as="h2" size="lg" mt="6" mb="2">
            {t("station.faults")}
          </Heading>
          <Faults timeline={data} />
        </>
      )}
    </Box>
  );
}
