import { Badge } from "@chakra-ui/react";
import type { StationState } from "../api/types";
import { useT, type MessageKey } from "../i18n";
import { STATE_COLOR } from "../pages/overview/urgency";

export const STATE_LABEL: Record<StationState, MessageKey> = {
  online: "state.online",
  silent: "state.silent",
  stream_down: "state.stream_down",
  agent_offline: "state.agent_offline",
  never_seen: "state.never_seen",
};

export function StateBadge({ state }: { state: StationState }) {
  const t = useT();
  return (
    <Badge colorPalette={STATE_COLOR[state]} variant={state === "online" ? "subtle" : "solid"}>
      {t(STATE_LABEL[state])}
    </Badge>
  );
}
