import { Alert } from "@chakra-ui/react";
import type { ReactNode } from "react";
import { ApiError, ErrorCodes, NETWORK_ERROR } from "../api/client";
import { useT, type MessageKey } from "../i18n";

// the collector's answers a person meets most, in their language (others show its own message)
const KNOWN: Partial<Record<number, MessageKey>> = {
  [ErrorCodes.MISSING_TOKEN]: "error.missingToken",
  [ErrorCodes.INVALID_TOKEN]: "error.invalidToken",
  [ErrorCodes.REVOKED_TOKEN]: "error.revokedToken",
  [ErrorCodes.FORBIDDEN_ROLE]: "error.forbiddenRole",
};

interface Props {
  status: "info" | "warning" | "error" | "success";
  title: string;
  error?: unknown;
  children?: ReactNode;
}

/** A message in the page; an ApiError adds the collector's own explanation. */
export function Notice({ status, title, error, children }: Props) {
  const t = useT();
  let description: string | null = null;
  if (error instanceof ApiError) {
    const known = KNOWN[error.code];
    if (error.code === NETWORK_ERROR) description = t("error.network");
    else if (known !== undefined) description = t(known);
    else if (error.code === ErrorCodes.NOT_FOUND && error.message === "Not Found") description = t("error.notYet");
    else description = t("error.collector", { message: error.message, name: error.error });
  } else if (error instanceof Error) {
    description = error.message;
  }
  return (
    <Alert.Root status={status} role={status === "error" ? "alert" : "status"} borderRadius="md">
      <Alert.Indicator />
      <Alert.Content>
        <Alert.Title>{title}</Alert.Title>
        {description !== null && <Alert.Description>{description}</Alert.Description>}
        {children}
      </Alert.Content>
    </Alert.Root>
  );
}

/** The standard wait/failure display of a query; renders nothing once data is there. */
export function QueryNotice({ query, title }: { query: { isError: boolean; error: unknown }; title?: string }) {
  const t = useT();
  if (!query.isError) return null;
  return <Notice status="error" title={title ?? t("error.loadFailed")} error={query.error} />;
}
