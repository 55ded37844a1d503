import { Box, Heading } from "@chakra-ui/react";
import { UrlTabs } from "../../components/UrlTabs";
import { useT } from "../../i18n";
import { AgentsTab } from "./AgentsTab";
import { StationsTab } from "./StationsTab";
import { UsersTab } from "./UsersTab";

export default function FleetPage() {
  const t = useT();
  return (
    <Box>
      <Heading as="h1" size="2xl" mb="4">
        {t("fleet.title")}
      </Heading>
      <UrlTabs
        tabs={[
          { value: "stations", label: t("fleet.stations"), content: () => <StationsTab /> },
          { value: "agents", label: t("fleet.agents"), content: () => <AgentsTab /> },
          { value: "users", label: t("fleet.users"), content: () => <UsersTab /> },
        ]}
      />
    </Box>
  );
}
