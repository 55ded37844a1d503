import { Box, Flex, HStack, Text } from "@chakra-ui/react";
import type { Timeline, TimelineKind } from "../../api/types";
import { useNow } from "../../components/useNow";
import { useFormat, useT, type MessageKey } from "../../i18n";
import { byKind, KIND_COLOR, LANES, place } from "./timeline";

export const KIND_LABEL: Record<TimelineKind, MessageKey> = {
  play: "timeline.play",
  speech: "timeline.speech",
  unknown: "timeline.unknown",
  silence: "timeline.silence",
  outage: "timeline.outage",
};

const LANE_LABEL: Record<(typeof LANES)[number]["key"], MessageKey> = {
  audio: "timeline.laneAudio",
  faults: "timeline.laneFaults",
};

/** The day (or the part of it from `from` to `to`) on a time axis, one lane for what was
 * heard, one for outages and silences, one for the ICY titles. Uncovered time had no audio from any agent. The same facts are in the
 * tables below the chart for keyboard and screen-reader users. */
export function DayTimeline({ timeline, from, to }: { timeline: Timeline; from: string; to: string }) {
  const t = useT();
  const f = useFormat();
  const now = useNow(60_000);
  const ticks = Array.from({ length: 7 }, (_, i) => {
    const at = new Date(Date.parse(from) + (i * (Date.parse(to) - Date.parse(from))) / 6);
    return { left: (i / 6) * 100, label: f.hourMinute(at) };
  });
  // a title still on air lasts until now (or the end of a past day)
  const openEnd = new Date(Math.min(now.getTime(), Date.parse(timeline.end))).toISOString();
  const describe = (start: string, end: string, what: string) => `${f.time(start)}–${f.time(end)} ${what}`;
  const lane = (label: string, bars: { key: string; start: string; end: string; color: string; title: string }[]) => (
    <Flex align="center" gap="2">
      <Text w="28" flexShrink={0} fontSize="sm" textAlign="end">
        {label}
      </Text>
      <Box position="relative" h="7" flex="1" bg="gray.100" borderRadius="sm" overflow="hidden" aria-hidden="true">
        {bars.map((b) => {
          const p = place(b.start, b.end, from, to);
          if (p === null) return null;
          return (
            <Box
              key={b.key}
              position="absolute"
              top="0"
              bottom="0"
              left={`${p.left}%`}
              w={`${p.width}%`}
              bg={b.color}
              title={b.title}
            />
          );
        })}
      </Box>
    </Flex>
  );
  return (
    <Box
      role="img"
      aria-label={t("timeline.label", { date: f.day(timeline.date), from: f.hourMinute(from), to: f.hourMinute(to) })}
      bg="white"
      p="3"
      borderWidth="1px"
      borderRadius="md"
    >
      <Flex direction="column" gap="1.5">
        {LANES.map((l) =>
          lane(
            t(LANE_LABEL[l.key]),
            byKind(timeline.items, l.kinds).map((item, i) => ({
              key: `${l.key}-${i}`,
              start: item.start,
              end: item.end,
              color: KIND_COLOR[item.kind],
              title: describe(
                item.start,
                item.end,
                item.kind === "play" ? `${item.title ?? ""} — ${item.artist ?? ""}` : t(KIND_LABEL[item.kind]),
              ),
            })),
          ),
        )}
        {lane(
          t("timeline.laneIcy"),
          timeline.titles.map((title, i) => {
            const end = title.end ?? openEnd;
            return {
              key: `icy-${i}`,
              start: title.start,
              end,
              color: i % 2 ? "#805ad5" : "#b794f4",
              title: describe(title.start, end, title.title),
            };
          }),
        )}
        <Flex gap="2">
          <Box w="28" flexShrink={0} />
          <Box position="relative" flex="1" h="5">
            {ticks.map((tick) => (
              <Text
                key={tick.left}
                position="absolute"
                left={`${tick.left}%`}
                transform={tick.left === 0 ? "none" : tick.left === 100 ? "translateX(-100%)" : "translateX(-50%)"}
                fontSize="xs"
                color="fg.muted"
              >
                {tick.label}
              </Text>
            ))}
          </Box>
        </Flex>
      </Flex>
      <HStack gap="4" mt="2" wrap="wrap" fontSize="sm">
        {(Object.keys(KIND_LABEL) as TimelineKind[]).map((kind) => (
          <HStack key={kind} gap="1">
            <Box w="3" h="3" bg={KIND_COLOR[kind]} borderRadius="sm" />
            <Text>{t(KIND_LABEL[kind])}</Text>
          </HStack>
        ))}
        <HStack gap="1">
          <Box w="3" h="3" bg="gray.100" borderWidth="1px" borderRadius="sm" />
          <Text>{t("timeline.nothing")}</Text>
        </HStack>
      </HStack>
    </Box>
  );
}
