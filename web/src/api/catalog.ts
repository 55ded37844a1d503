// The society's catalog: search, one recording, add one with its audio (admin).
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./client";
import type { Recording, RecordingPage, RecordingPut } from "./types";

export function useRecordings(q: string, page: number, pageSize = 50) {
  return useQuery({
    queryKey: ["catalog", q, page, pageSize],
    queryFn: ({ signal }) =>
      api<RecordingPage>("/api/v1/catalog/recordings", {
        query: { q, limit: pageSize, offset: (page - 1) * pageSize },
        signal,
      }),
    placeholderData: keepPreviousData,
  });
}

export function useRecording(externalId: string) {
  return useQuery({
    queryKey: ["catalog", "recording", externalId],
    queryFn: ({ signal }) => api<Recording>(`/api/v1/catalog/recordings/${encodeURIComponent(externalId)}`, { signal }),
  });
}

export function useAddRecording() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (form: FormData) => api<RecordingPut>("/api/v1/catalog/recordings", { method: "POST", form }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["catalog"] }),
  });
}
