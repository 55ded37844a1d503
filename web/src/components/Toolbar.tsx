import { Box, Flex, HStack } from "@chakra-ui/react";
import type { FormEvent, ReactNode } from "react";

/** A panel of filters, labels lined up at the top whatever help text a field has, and the
 * panel's buttons on a line of their own below. */
export function Toolbar({
  children,
  actions,
  onSubmit,
}: {
  children: ReactNode;
  actions?: ReactNode;
  /** makes the panel a form (its submit button goes in `actions`) */
  onSubmit?: (event: FormEvent) => void;
}) {
  return (
    <Box as={onSubmit ? "form" : "div"} onSubmit={onSubmit} bg="white" p="4" borderWidth="1px" borderRadius="md" mb="4">
      <Flex gap="4" wrap="wrap" align="start">
        {children}
      </Flex>
      {actions && (
        <HStack gap="2" mt="3" wrap="wrap">
          {actions}
        </HStack>
      )}
    </Box>
  );
}
