// Stations: their live state (overview), one station's day (timeline), and the admin's list.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "./client";
import type { Items, StationAdmin, StationStatus, Timeline } from "./types";

export const stationKeys = {
  status: ["stations", "status"] as const,
  timeline: (slug: string, date: string) => ["stations", slug, "timeline", date] as const,
  admin: ["stations", "admin"] as const,
};

/** Every station's state; kept fresh by the live events (useLiveEvents), not by polling. */
export function useStationStatus(options: { refetchInterval?: number | false } = {}) {
  return useQuery({
    queryKey: stationKeys.status,
    queryFn: ({ signal }) => api<StationStatus[]>("/api/v1/stations/status", { signal }),
    refetchInterval: options.refetchInterval ?? false,
  });
}

export function useTimeline(slug: string, date: string) {
  return useQuery({
    queryKey: stationKeys.timeline(slug, date),
    queryFn: ({ signal }) =>
      api<Timeline>(`/api/v1/stations/${encodeURIComponent(slug)}/timeline`, { query: { date }, signal }),
  });
}

export function useStationsAdmin(enabled = true) {
  return useQuery({
    queryKey: stationKeys.admin,
    queryFn: ({ signal }) => api<Items<StationAdmin>>("/api/v1/stations", { signal }),
    enabled,
  });
}

export interface StationInput {
  slug: string;
  name: string;
  city: string;
  frequency: string;
}

export function useCreateStation() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: StationInput) =>
      api<StationAdmin>("/api/v1/stations", {
        method: "POST",
        json: {
          slug: input.slug,
          name: input.name || null,
          city: input.city || null,
          frequency: input.frequency || null,
        },
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: ["stations"] }),
  });
}

/** Pin a station's playback rate (ppm), or `null` to learn it again from a full sweep. */
export function useSetStationRate() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ slug, ratePpm }: { slug: string; ratePpm: number | null }) =>
      api<StationAdmin>(`/api/v1/stations/${encodeURIComponent(slug)}/rate`, {
        method: "PUT",
        json: { rate_ppm: ratePpm },
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: stationKeys.admin }),
  });
}
