import { Box, Button, Card, Code, Field, Flex, Heading, Input, Stack, Text } from "@chakra-ui/react";
import { useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router";
import { LanguageSwitch } from "../app/Layout";
import { useSession } from "../auth/session";
import { CheckboxField } from "../components/fields";
import { Notice } from "../components/Notice";
import { useT } from "../i18n";

export function SignInPage() {
  const t = useT();
  const { token, ended, signIn } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [value, setValue] = useState("");
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const from = (location.state as { from?: string } | null)?.from ?? "/";

  if (token !== null && !busy) return <Navigate to={from} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(value, remember);
      navigate(from, { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Flex as="main" minH="100vh" align="center" justify="center" p="4" bg="green.50">
      <Card.Root maxW="lg" w="full">
        <Card.Header>
          <Flex justify="space-between" align="center" gap="4">
            <Heading as="h1" size="xl">
              {t("app.name")}
            </Heading>
            <LanguageSwitch />
          </Flex>
          <Text color="fg.muted">{t("signIn.subtitle")}</Text>
        </Card.Header>
        <Card.Body>
          <Stack as="form" gap="4" onSubmit={submit}>
            {ended && <Notice status="warning" title={t("signIn.ended")} error={ended} />}
            <Field.Root required invalid={error !== null}>
              <Field.Label>{t("signIn.token")}</Field.Label>
              <Input
                type="password"
                autoComplete="off"
                spellCheck={false}
                value={value}
                onChange={(e) => setValue(e.target.value)}
                placeholder={t("signIn.placeholder")}
              />
              <Field.HelperText>
                {t("signIn.help")} <Code>{t("signIn.command")}</Code>
              </Field.HelperText>
            </Field.Root>
            <CheckboxField label={t("signIn.remember")} checked={remember} onChange={setRemember} />
            {error !== null && <Notice status="error" title={t("signIn.failed")} error={error} />}
            <Box>
              <Button type="submit" colorPalette="green" loading={busy} disabled={value.trim() === ""}>
                {t("signIn.submit")}
              </Button>
            </Box>
          </Stack>
        </Card.Body>
      </Card.Root>
    </Flex>
  );
}
