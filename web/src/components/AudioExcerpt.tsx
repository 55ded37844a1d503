// An audio file the API serves behind the token (a play's proof of play, an unknown song's
// excerpt): fetched as a blob, played by the browser's own player.
import { Spinner } from "@chakra-ui/react";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo } from "react";
import { apiBlob } from "../api/client";
import { useT } from "../i18n";
import { Notice } from "./Notice";

export function AudioExcerpt({ path, label, failed }: { path: string; label: string; failed: string }) {
  const t = useT();
  const audio = useQuery({
    queryKey: ["audio", path],
    queryFn: () => apiBlob(path),
    staleTime: Infinity,
  });
  const url = useMemo(() => (audio.data ? URL.createObjectURL(audio.data.blob) : null), [audio.data]);
  useEffect(
    () => () => {
      if (url) URL.revokeObjectURL(url);
    },
    [url],
  );
  if (audio.isError) return <Notice status="error" title={failed} error={audio.error} />;
  if (url === null) return <Spinner size="sm" aria-label={t("common.loading")} />;
  // an off-air recording has no captions to offer; what it is is written beside it
  // eslint-disable-next-line jsx-a11y/media-has-caption
  return <audio controls src={url} aria-label={label} style={{ width: "100%", minWidth: "14rem" }} />;
}
