import { Button, Center, Spinner } from "@chakra-ui/react";
import type { ReactNode } from "react";
import { Navigate, useLocation } from "react-router";
import type { Permission } from "../auth/roles";
import { useSession } from "../auth/session";
import { useT } from "../i18n";
import { Notice } from "../components/Notice";

export function RequireAuth({ children }: { children: ReactNode }) {
  const { token, me, loading, error, signOut } = useSession();
  const location = useLocation();
  const t = useT();
  if (token === null) return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  if (error !== null && me === undefined) {
    return (
      <Center h="100vh" p="6">
        <Notice status="error" title={t("signIn.whoFailed")} error={error}>
          <Button mt="3" onClick={signOut}>
            {t("nav.signOut")}
          </Button>
        </Notice>
      </Center>
    );
  }
  if (loading || me === undefined) {
    return (
      <Center h="100vh">
        <Spinner size="lg" aria-label={t("common.loading")} />
      </Center>
    );
  }
  return children;
}

export function RequirePermission({ permission, children }: { permission: Permission; children: ReactNode }) {
  const t = useT();
  return useSession().can(permission) ? children : <Notice status="warning" title={t("common.notAllowed")} />;
}
