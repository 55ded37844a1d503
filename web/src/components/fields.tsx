// Labelled form controls the pages share: every control has a visible label.
import { Checkbox, Field, Input, NativeSelect, type InputProps } from "@chakra-ui/react";
import type { ReactNode } from "react";
import { useStationStatus } from "../api/stations";
import { useT } from "../i18n";

interface TextFieldProps extends Omit<InputProps, "onChange"> {
  label: string;
  help?: ReactNode;
  value: string;
  onChange: (value: string) => void;
}

export function TextField({ label, help, value, onChange, required, ...rest }: TextFieldProps) {
  return (
    <Field.Root required={required} maxW={rest.maxW ?? "xs"}>
      <Field.Label>
        {label}
        {required && <Field.RequiredIndicator />}
      </Field.Label>
      <Input size="sm" bg="white" value={value} onChange={(e) => onChange(e.target.value)} {...rest} />
      {help && <Field.HelperText>{help}</Field.HelperText>}
    </Field.Root>
  );
}

interface SelectFieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  options: { value: string; label: string }[];
  maxW?: string;
}

export function SelectField({ label, value, onChange, options, maxW = "xs" }: SelectFieldProps) {
  return (
    <Field.Root maxW={maxW}>
      <Field.Label>{label}</Field.Label>
      <NativeSelect.Root size="sm" bg="white">
        <NativeSelect.Field value={value} onChange={(e) => onChange(e.target.value)}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </NativeSelect.Field>
        <NativeSelect.Indicator />
      </NativeSelect.Root>
    </Field.Root>
  );
}

/** One station, or every station when `allowAll` (value ""). */
export function StationSelect(props: { value: string; onChange: (slug: string) => void; allowAll?: boolean }) {
  const t = useT();
  const { data } = useStationStatus();
  const stations = [...(data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const options = stations.map((s) => ({ value: s.station, label: `${s.name} (${s.station})` }));
  if (props.allowAll) options.unshift({ value: "", label: t("common.allStations") });
  else if (!props.value) options.unshift({ value: "", label: t("common.chooseStation") });
  return <SelectField label={t("common.station")} value={props.value} onChange={props.onChange} options={options} />;
}

/** A report period as the API writes it (2026-01, 2026-S1, 2026, 2026-01-15, a..b). */
export function PeriodField({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const t = useT();
  return (
    <TextField
      label={t("common.period")}
      help={t("common.periodHelp")}
      value={value}
      onChange={onChange}
      required
      maxW="xs"
      spellCheck={false}
    />
  );
}

/** A labelled checkbox. */
export function CheckboxField({
  label,
  checked,
  onChange,
}: {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) {
  return (
    <Checkbox.Root checked={checked} onCheckedChange={(e) => onChange(e.checked === true)}>
      <Checkbox.HiddenInput />
      <Checkbox.Control />
      <Checkbox.Label>{label}</Checkbox.Label>
    </Checkbox.Root>
  );
}
