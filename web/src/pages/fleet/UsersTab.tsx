import { Box, Button, HStack, NativeSelect, Spinner, Stack, Text } from "@chakra-ui/react";
import { useState, type FormEvent } from "react";
import { useCreateUser, useNewUserToken, useRevokeUser, useSetRole, useUsers } from "../../api/fleet";
import type { UserAdmin } from "../../api/types";
import { isRole, type Role } from "../../auth/roles";
import { useSession } from "../../auth/session";
import { ConfirmButton, SecretReveal } from "../../components/buttons";
import { SelectField, TextField } from "../../components/fields";
import { ListTable } from "../../components/ListTable";
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

function RoleSelect({ user }: { user: UserAdmin }) {
  const t = useT();
  const { me } = useSession();
  const setRole = useSetRole();
  const roles = useRoleOptions();
  return (
    <>
      <NativeSelect.Root size="xs" maxW="10rem" disabled={me?.name === user.name}>
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
      {setRole.isError && <Notice status="error" title={t("fleet.actionFailed")} error={setRole.error} />}
    </>
  );
}

function UserActions({ user, onToken }: { user: UserAdmin; onToken: (name: string, token: string) => void }) {
  const t = useT();
  const { me } = useSession();
  const token = useNewUserToken();
  const revoke = useRevokeUser();
  const error = token.error ?? revoke.error;
  return (
    <>
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
        {user.active_tokens > 0 && me?.name !== user.name && (
          <ConfirmButton
            label={t("fleet.revoke")}
            question={t("fleet.revokeUserQuestion", { name: user.name })}
            onConfirm={() => revoke.mutate(user.name)}
            loading={revoke.isPending}
          />
        )}
      </HStack>
      {error && <Notice status="error" title={t("fleet.actionFailed")} error={error} />}
    </>
  );
}

export function UsersTab() {
  const t = useT();
  const f = useFormat();
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
        <ListTable
          caption={t("fleet.users")}
          rows={users.data.items}
          rowKey={(u) => u.name}
          columns={[
            { header: t("fleet.userName"), render: (u) => <Text fontWeight="medium">{u.name}</Text> },
            { header: t("fleet.role"), render: (u) => <RoleSelect user={u} /> },
            { header: t("fleet.created"), render: (u) => f.date(u.created_at) },
            { header: t("fleet.tokens"), render: (u) => t("fleet.activeTokens", { count: u.active_tokens }) },
            { header: t("plays.col.actions"), render: (u) => <UserActions user={u} onToken={onToken} /> },
          ]}
        />
      )}
      <Text fontSize="xs" color="fg.muted">
        {t("fleet.rolesNote")}
      </Text>
    </Stack>
  );
}
