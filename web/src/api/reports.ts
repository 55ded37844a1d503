// Reports for analysts: relevé de diffusion, airtime, activity, unidentified music, files.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./client";
import type { ActivityReport, AirtimeBy, AirtimeReport, PlaylistReport, ReportFile, UnidentifiedReport } from "./types";

export function usePlaylist(station: string, period: string) {
  return useQuery({
    queryKey: ["reports", "playlist", station, period],
    queryFn: ({ signal }) =>
      api<PlaylistReport>("/api/v1/reports/playlist", { query: { station, period, format: "json" }, signal }),
    enabled: station !== "" && period !== "",
  });
}

export function useAirtime(period: string, by: AirtimeBy, station: string[], pageSize = 100) {
  return useQuery({
    queryKey: ["reports", "airtime", period, by, station, pageSize],
    queryFn: ({ signal }) =>
      api<AirtimeReport>("/api/v1/reports/airtime", {
        query: { period, by, station, page_size: pageSize, format: "json" },
        signal,
      }),
    enabled: period !== "",
  });
}

export function useActivity(period: string, station: string[] = []) {
  return useQuery({
    queryKey: ["reports", "activity", period, station],
    queryFn: ({ signal }) =>
      api<ActivityReport>("/api/v1/reports/activity", { query: { period, station, format: "json" }, signal }),
    enabled: period !== "",
  });
}

export function useUnidentified(period: string, station: string[]) {
  return useQuery({
    queryKey: ["reports", "unidentified", period, station],
    queryFn: ({ signal }) =>
      api<UnidentifiedReport>("/api/v1/reports/unidentified", {
        query: { period, station, format: "json", max_stretches: 500 },
        signal,
      }),
    enabled: period !== "",
  });
}

export function useReportFiles(period: string) {
  return useQuery({
    queryKey: ["reports", "files", period],
    queryFn: ({ signal }) => api<{ files: ReportFile[] }>("/api/v1/reports/files", { query: { period }, signal }),
  });
}

export function useGenerateFiles() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: { period: string; station: string | null; lang: "fr" | "en" }) =>
      api<{ files: ReportFile[] }>("/api/v1/reports/files", { method: "POST", json: body }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["reports", "files"] }),
  });
}
