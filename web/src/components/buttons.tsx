import { Box, Button, Code, HStack, Text, type ButtonProps } from "@chakra-ui/react";
import { useState } from "react";
import { download, type Query } from "../api/client";
import { useT } from "../i18n";
import { Notice } from "./Notice";

/** Downloads a file from the collector with the session's token (CSV, XLSX, PDF). */
export function DownloadButton({
  path,
  query,
  label,
  ...rest
}: { path: string; query: Query; label: string } & ButtonProps) {
  const t = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  return (
    <Box>
      <Button
        size="sm"
        variant="outline"
        loading={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await download(path, query);
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
        {...rest}
      >
        {label}
      </Button>
      {error !== null && <Notice status="error" title={t("error.downloadFailed")} error={error} />}
    </Box>
  );
}

/** A button that asks once more before doing something that cannot be undone. */
export function ConfirmButton({
  label,
  question,
  onConfirm,
  loading,
}: {
  label: string;
  question: string;
  onConfirm: () => void;
  loading?: boolean;
}) {
  const t = useT();
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <Button size="xs" variant="outline" colorPalette="red" loading={loading} onClick={() => setAsking(true)}>
        {label}
      </Button>
    );
  }
  return (
    <HStack gap="2" role="group" aria-label={question}>
      <Text fontSize="sm">{question}</Text>
      <Button
        size="xs"
        colorPalette="red"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        {t("common.yes")}
      </Button>
      <Button size="xs" variant="ghost" onClick={() => setAsking(false)}>
        {t("common.no")}
      </Button>
    </HStack>
  );
}

/** A secret shown once (an enrollment code, a user token), with a copy button. */
export function SecretReveal({ title, secret, note }: { title: string; secret: string; note: string }) {
  const t = useT();
  const [copied, setCopied] = useState(false);
  return (
    <Box borderWidth="1px" borderColor="orange.300" bg="orange.50" p="3" borderRadius="md" role="status">
      <Text fontWeight="semibold">{title}</Text>
      <HStack mt="2" gap="2" wrap="wrap">
        <Code fontSize="md" p="2" wordBreak="break-all">
          {secret}
        </Code>
        <Button
          size="xs"
          onClick={async () => {
            await navigator.clipboard.writeText(secret);
            setCopied(true);
          }}
        >
          {copied ? t("common.copied") : t("common.copy")}
        </Button>
      </HStack>
      <Text fontSize="sm" mt="2">
        {note}
      </Text>
    </Box>
  );
}
