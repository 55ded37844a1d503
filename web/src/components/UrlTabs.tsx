import { Tabs } from "@chakra-ui/react";
import type { ReactNode } from "react";
import { useSearchParams } from "react-router";

export interface Tab {
  value: string;
  label: string;
  content: () => ReactNode;
}

/** Tabs whose choice lives in the address (`?tab=…`): a reload or a shared link keeps it.
 * A tab's content is mounted when first shown. */
export function UrlTabs({ tabs }: { tabs: Tab[] }) {
  const [params, setParams] = useSearchParams();
  const asked = params.get("tab");
  const value = tabs.some((x) => x.value === asked) ? (asked as string) : (tabs[0]?.value ?? "");
  return (
    <Tabs.Root
      value={value}
      onValueChange={(e) => setParams({ tab: e.value }, { replace: true })}
      variant="enclosed"
      lazyMount
    >
      <Tabs.List mb="4">
        {tabs.map((x) => (
          <Tabs.Trigger key={x.value} value={x.value}>
            {x.label}
          </Tabs.Trigger>
        ))}
      </Tabs.List>
      {tabs.map((x) => (
        <Tabs.Content key={x.value} value={x.value}>
          {x.content()}
        </Tabs.Content>
      ))}
    </Tabs.Root>
  );
}
