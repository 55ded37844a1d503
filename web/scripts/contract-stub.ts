import type { Plugin } from "vite";
export function contractStub(_collector: string): Plugin {
  return { name: "sodav-contract-stub" };
}
