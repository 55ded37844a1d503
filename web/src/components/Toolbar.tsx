import { Flex, HStack } from "@chakra-ui/react";
import type { ReactNode } from "react";

/** A panel of filters: labels line up at the top whatever help text a field has. */
export function Toolbar({ children }: { children: ReactNode }) {
  return (
    <Flex gap="4" wrap="wrap" align="start" bg="white" p="4" borderWidth="1px" borderRadius="md" mb="4">
      {children}
    </Flex>
  );
}

/** Buttons beside labelled fields, level with the fields' inputs. */
export function ToolbarActions({ children }: { children: ReactNode }) {
  return (
    <HStack gap="2" pt="7" wrap="wrap">
      {children}
    </HStack>
  );
}
