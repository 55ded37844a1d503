import { Badge, Box, Button, HStack, Input, Spinner, Stack, Text } from "@chakra-ui/react";
import { useState, type FormEvent } from "react";
import { useCreateStation, useSetStationRate, useStationsAdmin, type StationInput } from "../../api/stations";
import type { StationAdmin } from "../../api/types";
import { TextField } from "../../components/fields";
import { ListTable } from "../../components/ListTable";
import { Notice, QueryNotice } from "../../components/Notice";
import { Toolbar } from "../../components/Toolbar";
import { useFormat, useT } from "../../i18n";
import { parseRatePercent } from "./rate";

function RateCell({ station }: { station: StationAdmin }) {
  const t = useT();
  const f = useFormat();
  const setRate = useSetStationRate();
  const [text, setText] = useState("");
  const ppm = parseRatePercent(text);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (ppm !== null) setRate.mutate({ slug: station.slug, ratePpm: ppm }, { onSuccess: () => setText("") });
  };
  return (
    <Stack gap="1">
      <HStack gap="1" wrap="wrap">
        {station.rate_ppm === null ? (
          <Badge>{t("fleet.rateUnknown")}</Badge>
        ) : (
          <Badge colorPalette={station.rate_source === "admin" ? "orange" : "blue"}>
            {f.rate(station.rate_ppm)} · {t(station.rate_source === "admin" ? "fleet.ratePinned" : "fleet.rateLearned")}
          </Badge>
        )}
        <Text fontSize="xs" color="fg.muted">
          {t("fleet.variants", { list: station.variants_ppm.map((v) => f.rate(v)).join(" ") })}
        </Text>
      </HStack>
      <HStack as="form" gap="1" onSubmit={submit}>
        <Input
          size="xs"
          maxW="6rem"
          bg="white"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={t("fleet.ratePlaceholder")}
          aria-label={t("fleet.pinRateOf", { name: station.name })}
          aria-invalid={text !== "" && ppm === null}
        />
        <Button type="submit" size="xs" disabled={ppm === null} loading={setRate.isPending}>
          {t("fleet.pin")}
        </Button>
        {station.rate_ppm !== null && (
          <Button size="xs" variant="ghost" onClick={() => setRate.mutate({ slug: station.slug, ratePpm: null })}>
            {t("fleet.relearn")}
          </Button>
        )}
      </HStack>
      {setRate.isError && <Notice status="error" title={t("fleet.rateFailed")} error={setRate.error} />}
    </Stack>
  );
}

function NewStation() {
  const t = useT();
  const create = useCreateStation();
  const [input, setInput] = useState<StationInput>({ slug: "", name: "", city: "", frequency: "" });
  const set = (key: keyof StationInput) => (value: string) => setInput((old) => ({ ...old, [key]: value }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(input, { onSuccess: () => setInput({ slug: "", name: "", city: "", frequency: "" }) });
  };
  return (
    <Box>
      <Toolbar
        onSubmit={submit}
        actions={
          <Button type="submit" size="sm" colorPalette="green" loading={create.isPending} disabled={!input.slug.trim()}>
            {t("fleet.addStation")}
          </Button>
        }
      >
        <TextField
          label={t("fleet.slug")}
          help={t("fleet.slugHelp")}
          value={input.slug}
          onChange={set("slug")}
          required
        />
        <TextField label={t("fleet.name")} value={input.name} onChange={set("name")} />
        <TextField label={t("fleet.city")} value={input.city} onChange={set("city")} maxW="10rem" />
        <TextField label={t("fleet.frequency")} value={input.frequency} onChange={set("frequency")} maxW="8rem" />
      </Toolbar>
      {create.isError && <Notice status="error" title={t("fleet.addStationFailed")} error={create.error} />}
      {create.isSuccess && <Notice status="success" title={t("fleet.stationAdded", { slug: create.data.slug })} />}
    </Box>
  );
}

export function StationsTab() {
  const t = useT();
  const stations = useStationsAdmin();
  return (
    <Stack gap="4">
      <NewStation />
      <QueryNotice query={stations} />
      {stations.isPending && <Spinner aria-label={t("common.loading")} />}
      {stations.data && (
        <ListTable
          caption={t("fleet.stations")}
          rows={stations.data.items}
          rowKey={(s) => s.slug}
          columns={[
            {
              header: t("common.station"),
              render: (s) => (
                <>
                  <Text fontWeight="medium">{s.name}</Text>
                  <Text fontSize="xs" color="fg.muted">
                    {s.slug}
                  </Text>
                </>
              ),
            },
            { header: t("fleet.where"), render: (s) => [s.city, s.frequency].filter(Boolean).join(" · ") },
            { header: t("fleet.agents"), render: (s) => (s.agents.length ? s.agents.join(", ") : t("common.dash")) },
            { header: t("fleet.rate"), render: (s) => <RateCell station={s} /> },
          ]}
        />
      )}
    </Stack>
  );
}
