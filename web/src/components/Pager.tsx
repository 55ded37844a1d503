import { Button, HStack, Text } from "@chakra-ui/react";
import { useT } from "../i18n";

interface Props {
  page: number;
  pageSize: number;
  total: number;
  onPage: (page: number) => void;
}

export function Pager({ page, pageSize, total, onPage }: Props) {
  const t = useT();
  const pages = Math.max(1, Math.ceil(total / pageSize));
  return (
    <HStack as="nav" aria-label={t("pager.label")} gap="3" mt="3">
      <Button size="sm" variant="outline" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        {t("pager.previous")}
      </Button>
      <Text fontSize="sm" aria-live="polite">
        {t("pager.position", { page, pages, total })}
      </Text>
      <Button size="sm" variant="outline" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        {t("pager.next")}
      </Button>
    </HStack>
  );
}
