import { Box, Button, CloseButton, Dialog, Field, Input, Portal, SimpleGrid, Stack } from "@chakra-ui/react";
import { useState, type FormEvent } from "react";
import { Link as RouterLink } from "react-router";
import { useAddRecording } from "../../api/catalog";
import { TextField } from "../../components/fields";
import { Notice } from "../../components/Notice";
import { useT, type MessageKey } from "../../i18n";

// the fields of a catalog CSV row (docs/ops/catalog.md), as POST /api/v1/catalog/recordings takes them
const FIELDS: { name: string; label: MessageKey; required?: boolean }[] = [
  { name: "external_id", label: "col.externalId", required: true },
  { name: "title", label: "col.title", required: true },
  { name: "artist", label: "col.artist", required: true },
  { name: "isrc", label: "col.isrc" },
  { name: "iswc", label: "col.iswc" },
  { name: "album", label: "col.album" },
  { name: "label", label: "col.label" },
  { name: "composer", label: "col.composer" },
  { name: "publisher", label: "col.publisher" },
  { name: "year", label: "col.year" },
];

export function AddRecording({ open, onClose }: { open: boolean; onClose: () => void }) {
  const t = useT();
  const add = useAddRecording();
  const [values, setValues] = useState<Record<string, string>>({});
  const [file, setFile] = useState<File | null>(null);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (file === null) return;
    const form = new FormData();
    form.append("file", file);
    for (const [key, value] of Object.entries(values)) if (value.trim()) form.append(key, value.trim());
    add.mutate(form);
  }
  const close = () => {
    add.reset();
    setValues({});
    setFile(null);
    onClose();
  };

  return (
    <Dialog.Root open={open} onOpenChange={(e) => !e.open && close()} size="lg">
      <Portal>
        <Dialog.Backdrop />
        <Dialog.Positioner>
          <Dialog.Content as="form" onSubmit={submit}>
            <Dialog.Header>
              <Dialog.Title>{t("catalog.addTitle")}</Dialog.Title>
            </Dialog.Header>
            <Dialog.Body>
              <Stack gap="4">
                <Field.Root required>
                  <Field.Label>
                    {t("catalog.audio")}
                    <Field.RequiredIndicator />
                  </Field.Label>
                  <Input type="file" accept="audio/*" p="1" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
                  <Field.HelperText>{t("catalog.audioHelp")}</Field.HelperText>
                </Field.Root>
                <SimpleGrid columns={{ base: 1, md: 2 }} gap="3">
                  {FIELDS.map((field) => (
                    <TextField
                      key={field.name}
                      label={t(field.label)}
                      required={field.required}
                      value={values[field.name] ?? ""}
                      onChange={(v) => setValues((old) => ({ ...old, [field.name]: v }))}
                      maxW="full"
                    />
                  ))}
                </SimpleGrid>
                {add.isError && <Notice status="error" title={t("catalog.addFailed")} error={add.error} />}
                {add.isSuccess && (
                  <Notice
                    status="success"
                    title={t(add.data.outcome === "added" ? "catalog.added" : "catalog.updated", {
                      title: add.data.recording.title,
                    })}
                  >
                    <Box mt="1">
                      <RouterLink to={`/catalog/${encodeURIComponent(add.data.recording.external_id)}`} onClick={close}>
                        {t("catalog.open")}
                      </RouterLink>
                    </Box>
                  </Notice>
                )}
              </Stack>
            </Dialog.Body>
            <Dialog.Footer>
              <Button variant="ghost" onClick={close}>
                {t("common.close")}
              </Button>
              <Button type="submit" colorPalette="green" loading={add.isPending} disabled={file === null}>
                {t("catalog.upload")}
              </Button>
            </Dialog.Footer>
            <Dialog.CloseTrigger asChild>
              <CloseButton size="sm" aria-label={t("common.close")} />
            </Dialog.CloseTrigger>
          </Dialog.Content>
        </Dialog.Positioner>
      </Portal>
    </Dialog.Root>
  );
}
