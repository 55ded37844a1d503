import { Box, Heading, Tabs } from "@chakra-ui/react";
import { useSearchParams } from "react-router";
import { useT, type MessageKey } from "../../i18n";
import { AgentsTab } from "./AgentsTab";
import { StationsTab } from "./StationsTab";
import { UsersTab } from "./UsersTab";

const TABS: { value: string; label: MessageKey; Component: () => React.ReactNode }[] = [
  { value: "stations", label: "fleet.stations", Component: StationsTab },
  { value: "agents", label: "fleet.agents", Component: AgentsTab },
  { value: "users", label: "fleet.users", Component: UsersTab },
];

export default function FleetPage() {
  const t = useT();
  const [params, setParams] = useSearchParams();
  const tab = TABS.some((x) => x.value === params.get("tab")) ? (params.get("tab") as string) : "stations";
  return (
    <Box>
      <Heading as="h1" size="2xl" mb="4">
        {t("fleet.title")}
      </Heading>
      <Tabs.Root
        value={tab}
        onValueChange={(e) => setParams({ tab: e.value }, { replace: true })}
        variant="enclosed"
        lazyMount
      >
        <Tabs.List mb="4">
          {TABS.map((x) => (
            <Tabs.Trigger key={x.value} value={x.value}>
              {t(x.label)}
            </Tabs.Trigger>
          ))}
        </Tabs.List>
        {TABS.map(({ value, Component }) => (
          <Tabs.Content key={value} value={value}>
            <Component />
          </Tabs.Content>
        ))}
      </Tabs.Root>
    </Box>
  );
}
