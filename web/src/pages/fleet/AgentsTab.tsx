import { Box, Button, Code, HStack, Spinner, Stack, Text } from "@chakra-ui/react";
import { useState, type FormEvent } from "react";
import { useAgents, useCreateAgent, useNewEnrollmentCode, useRevokeAgent } from "../../api/fleet";
import type { AgentAdmin, EnrollmentCode } from "../../api/types";
import { ConfirmButton, SecretReveal } from "../../components/buttons";
import { TextField } from "../../components/fields";
import { ListTable } from "../../components/ListTable";
import { Notice, QueryNotice } from "../../components/Notice";
import { Toolbar } from "../../components/Toolbar";
import { useNow } from "../../components/useNow";
import { useFormat, useT } from "../../i18n";
import { parseSlugs } from "./rate";

function CodeShown({ agent, code }: { agent: string; code: EnrollmentCode }) {
  const t = useT();
  const f = useFormat();
  return (
    <SecretReveal
      title={t("fleet.codeFor", { agent })}
      secret={code.enrollment_code}
      note={t("fleet.codeNote", { until: f.dateTime(code.expires_at) })}
    />
  );
}

function NewAgent({ onCode }: { onCode: (agent: string, code: EnrollmentCode) => void }) {
  const t = useT();
  const create = useCreateAgent();
  const [name, setName] = useState("");
  const [stations, setStations] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate(
      { name: name.trim(), stations: parseSlugs(stations) },
      {
        onSuccess: (data) => {
          onCode(data.agent.name, data);
          setName("");
          setStations("");
        },
      },
    );
  };
  return (
    <Box>
      <Toolbar
        onSubmit={submit}
        actions={
          <Button
            type="submit"
            size="sm"
            colorPalette="green"
            loading={create.isPending}
            disabled={!name.trim() || parseSlugs(stations).length === 0}
          >
            {t("fleet.addAgent")}
          </Button>
        }
      >
        <TextField
          label={t("fleet.agentName")}
          help={t("fleet.agentNameHelp")}
          value={name}
          onChange={setName}
          required
        />
        <TextField
          label={t("fleet.agentStations")}
          help={t("fleet.agentStationsHelp")}
          value={stations}
          onChange={setStations}
          required
          maxW="md"
        />
      </Toolbar>
      {create.isError && <Notice status="error" title={t("fleet.addAgentFailed")} error={create.error} />}
    </Box>
  );
}

function AgentActions({ agent, onCode }: { agent: AgentAdmin; onCode: (agent: string, code: EnrollmentCode) => void }) {
  const t = useT();
  const code = useNewEnrollmentCode();
  const revoke = useRevokeAgent();
  return (
    <Stack gap="1" align="start">
      <HStack gap="2" wrap="wrap">
        <Button
          size="xs"
          variant="outline"
          loading={code.isPending}
          onClick={() => code.mutate(agent.name, { onSuccess: (data) => onCode(agent.name, data) })}
        >
          {t("fleet.newCode")}
        </Button>
        {agent.active_tokens > 0 && (
          <ConfirmButton
            label={t("fleet.revoke")}
            question={t("fleet.revokeAgentQuestion", { name: agent.name })}
            onConfirm={() => revoke.mutate(agent.name)}
            loading={revoke.isPending}
          />
        )}
      </HStack>
      {revoke.isSuccess && <Text fontSize="xs">{t("fleet.revoked", { count: revoke.data.revoked })}</Text>}
      {(code.isError || revoke.isError) && (
        <Notice status="error" title={t("fleet.actionFailed")} error={code.error ?? revoke.error} />
      )}
    </Stack>
  );
}

export function AgentsTab() {
  const t = useT();
  const f = useFormat();
  const now = useNow();
  const agents = useAgents();
  const [shown, setShown] = useState<{ agent: string; code: EnrollmentCode } | null>(null);
  const onCode = (agent: string, code: EnrollmentCode) => setShown({ agent, code });
  return (
    <Stack gap="4">
      <NewAgent onCode={onCode} />
      {shown && (
        <Box>
          <CodeShown agent={shown.agent} code={shown.code} />
          <Text fontSize="sm" mt="2">
            {t("fleet.onTheBox")}{" "}
            <Code>{`sudo sodav-agent enroll ${window.location.origin} ${shown.code.enrollment_code}`}</Code>
          </Text>
        </Box>
      )}
      <QueryNotice query={agents} />
      {agents.isPending && <Spinner aria-label={t("common.loading")} />}
      {agents.data && (
        <ListTable
          caption={t("fleet.agents")}
          rows={agents.data.items}
          rowKey={(a) => a.name}
          columns={[
            { header: t("fleet.agent"), render: (a) => <Text fontWeight="medium">{a.name}</Text> },
            { header: t("fleet.agentStations"), render: (a) => a.stations.join(", ") },
            {
              header: t("fleet.lastSeen"),
              render: (a) => (a.last_seen_at ? f.since(a.last_seen_at, now) : t("common.never")),
            },
            { header: t("fleet.version"), render: (a) => a.version ?? t("common.dash") },
            {
              header: t("fleet.tokens"),
              render: (a) => (
                <>
                  <Text>{t("fleet.activeTokens", { count: a.active_tokens })}</Text>
                  {a.enrollment_expires_at && (
                    <Text fontSize="xs" color="fg.muted">
                      {t("fleet.codePending", { until: f.dateTime(a.enrollment_expires_at) })}
                    </Text>
                  )}
                </>
              ),
            },
            { header: t("plays.col.actions"), render: (a) => <AgentActions agent={a} onCode={onCode} /> },
          ]}
        />
      )}
    </Stack>
  );
}
