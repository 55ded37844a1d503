import { Box, Button, HStack, NativeSelect, Spinner, Stack, Table, Text } from "@chakra-ui/react";
import { useState, type FormEvent } from "react";
import { useCreateUser, useNewUserToken, useRevokeUser, useSetRole, useUsers } from "../../api/fleet";
import type { UserAdmin } from "../../api/types";
import { isRole, type Role } from "../../auth/roles";
import { useSession } from "../../auth/session";
import { ConfirmButton, SecretReveal } from "../../components/buttons";
import { SelectField, TextField } from "../../components/fields";
import { Notice, QueryNotice } from "../../components/Notice";
import { Toolbar } from "../../components/Toolbar";
import { useFormat, useT } from "../../i18n";

function useRoleOptions() {
  const t = useT();
  return [
    { value: "analyst", label: t("role.analyst") },
    { value: "admin", label: t("role.admin") },
  ];
}

function UserRow({ user, onToken }: { user: UserAdmin; onToken: (name: string, token: string) => void }) {
  const t = useT();
  const f = useFormat();
  const { me } = useSession();
  const setRole = useSetRole();
  const token = useNewUserToken();
  const revoke = useRevokeUser();
  const roles = useRoleOptions();
  const self = me?.name === user.name;
  const error = setRole.error ?? token.error ?? revoke.error;
  return (
    <Table.Row verticalAlign="top">
      <Table.Cell fontWeight="medium">{user.name}</Table.Cell>
      <Table.Cell>
        <NativeSelect.Root size="xs" maxW="10rem" disabled={self}>
          <NativeSelect.Field
            aria-label={t("fleet.roleOf", { name: user.name })}
            value={user.role}
            onChange={(e) => isRole(e.target.value) && setRole.mutate({ name: user.name, role: e.target.value })}
          >
            {roles.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </NativeSelect.Field>
          <NativeSelect.Indicator />
        </NativeSelect.Root>
      </Table.Cell>
      <Table.Cell>{f.date(user.created_at)}</Table.Cell>
      <Table.Cell>{t("fleet.activeTokens", { count: user.active_tokens })}</Table.Cell>
      <Table.Cell>
        <HStack gap="2" wrap="wrap">
          <Button
            size="xs"
            variant="outline"
            loading={token.isPending}
            onClick={() =>
              token.mutate({ name: user.name, revokeOthers: false }, { onSuccess: (d) => onToken(user.name, d.token) })
            }
          >
            {t("fleet.newToken")}
          </Button>
          {user.active_tokens > 0 && !self && (
            <ConfirmButton
              label={t("fleet.revoke")}
              question={t("fleet.revokeUserQuestion", { name: user.name })}
              onConfirm={() => revoke.mutate(user.name)}
              loading={revoke.isPending}
            />
          )}
        </HStack>
        {error && <Notice status="error" title={t("fleet.actionFailed")} error={error} />}
      </Table.Cell>
    </Table.Row>
  );
}

export function UsersTab() {
  const t = useT();
  const users = useUsers();
  const create = useCreateUser();
  const roles = useRoleOptions();
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("analyst");
  const [shown, setShown] = useState<{ name: string; token: string } | null>(null);
  const onToken = (user: string, token: string) => setShown({ name: user, token });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { name: name.trim(), role },
      {
        onSuccess: (d) => {
          onToken(d.user.name, d.token);
          setName("");
        },
      },
    );
  };
  return (
    <Stack gap="4">
      <Box>
        <Toolbar
          onSubmit={submit}
          actions={
            <Button type="submit" size="sm" colorPalette="green" loading={create.isPending} disabled={!name.trim()}>
              {t("fleet.addUser")}
            </Button>
          }
        >
          <TextField label={t("fleet.userName")} value={name} onChange={setName} required />
          <SelectField
            label={t("fleet.role")}
            value={role}
            onChange={(v) => isRole(v) && setRole(v)}
            options={roles}
            maxW="12rem"
          />
        </Toolbar>
        {create.isError && <Notice status="error" title={t("fleet.addUserFailed")} error={create.error} />}
      </Box>
      {shown && (
        <SecretReveal
          title={t("fleet.tokenFor", { name: shown.name })}
          secret={shown.token}
          note={t("fleet.tokenNote")}
        />
      )}
      <QueryNotice query={users} />
      {users.isPending && <Spinner aria-label={t("common.loading")} />}
      {users.data && (
        <Table.ScrollArea borderWidth="1px" borderRadius="md" bg="white">
          <Table.Root size="sm">
            <Table.Caption srOnly>{t("fleet.users")}</Table.Caption>
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeader scope="col">{t("fleet.userName")}</Table.ColumnHeader>
                <Table.ColumnHeader scope="col">{t("fleet.role")}</Table.ColumnHeader>
                <Table.ColumnHeader scope="col">{t("fleet.created")}</Table.ColumnHeader>
                <Table.ColumnHeader scope="col">{t("fleet.tokens")}</Table.ColumnHeader>
                <Table.ColumnHeader scope="col">{t("plays.col.actions")}</Table.ColumnHeader>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {users.data.items.map((u) => (
                <UserRow key={u.name} user={u} onToken={onToken} />
              ))}
            </Table.Body>
          </Table.Root>
        </Table.ScrollArea>
      )}
      <Text fontSize="xs" color="fg.muted">
        {t("fleet.rolesNote")}
      </Text>
    </Stack>
  );
}
