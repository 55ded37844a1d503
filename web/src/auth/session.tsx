// The signed-in person: their API token (pasted once; users get it from
// `sodav-collector users add`) and who the collector says they are (GET /api/v1/users/me).
// The token stays in this tab (sessionStorage) unless the person asks to be remembered on
// this computer (localStorage). A 401 on any request signs out with the collector's message.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, setToken, setUnauthorizedHandler, type ApiError } from "../api/client";
import type { Me } from "../api/types";
import { useI18n } from "../i18n";
import { can, type Permission } from "./roles";

const KEY = "sodav.token";

interface Session {
  token: string | null;
  me: Me | undefined;
  loading: boolean;
  /** Why the collector could not say who the token belongs to (not a 401: that signs out). */
  error: Error | null;
  /** Why the last session ended (a revoked token), shown on the sign-in page. */
  ended: ApiError | null;
  signIn: (token: string, remember: boolean) => Promise<Me>;
  signOut: () => void;
  can: (permission: Permission) => boolean;
}

const Context = createContext<Session | null>(null);

/** A token handed over in the address's fragment (`/#token=sdu_…`, as `./dev demo` prints it):
 * kept for this tab and taken out of the address. Browsers never send a fragment to a server. */
function tokenFromAddress(): void {
  const match = /(?:^#|&)token=([\w-]+)/.exec(window.location.hash);
  if (!match?.[1]) return;
  sessionStorage.setItem(KEY, match[1]);
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
}

function storedToken(): string | null {
  tokenFromAddress();
  const value = sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
  setToken(value);
  return value;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const { setZone } = useI18n();
  const [token, setTokenState] = useState<string | null>(storedToken);
  const [ended, setEnded] = useState<ApiError | null>(null);

  const clear = useCallback(() => {
    sessionStorage.removeItem(KEY);
    localStorage.removeItem(KEY);
    setToken(null);
    setTokenState(null);
    client.clear();
  }, [client]);

  useEffect(() => {
    setUnauthorizedHandler((error) => {
      setEnded(error);
      clear();
    });
    return () => setUnauthorizedHandler(null);
  }, [clear]);

  const me = useQuery({
    queryKey: ["me", token],
    queryFn: ({ signal }) => api<Me>("/api/v1/users/me", { signal }),
    enabled: token !== null,
    staleTime: 5 * 60_000,
  });

  useEffect(() => {
    if (me.data) setZone(me.data.timezone);
  }, [me.data, setZone]);

  const signIn = useCallback(
    async (pasted: string, remember: boolean) => {
      const value = pasted.trim();
      const who = await api<Me>("/api/v1/users/me", { token: value });
      (remember ? localStorage : sessionStorage).setItem(KEY, value);
      setToken(value);
      client.setQueryData(["me", value], who);
      setEnded(null);
      setTokenState(value);
      return who;
    },
    [client],
  );

  const value = useMemo<Session>(
    () => ({
      token,
      me: me.data,
      loading: token !== null && me.isPending && me.fetchStatus !== "idle",
      error: me.error,
      ended,
      signIn,
      signOut: clear,
      can: (permission) => can(me.data?.role, permission),
    }),
    [token, me.data, me.isPending, me.fetchStatus, me.error, ended, signIn, clear],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useSession(): Session {
  const value = useContext(Context);
  if (value === null) throw new Error("useSession outside SessionProvider");
  return value;
}

/** Renders its children only for people allowed to `do` it (the API refuses it anyway). */
export function Can({ do: permission, children }: { do: Permission; children: ReactNode }) {
  return useSession().can(permission) ? children : null;
}
