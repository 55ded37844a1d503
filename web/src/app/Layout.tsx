import { Badge, Box, Button, Flex, HStack, Link, Text } from "@chakra-ui/react";
import { NavLink, Outlet } from "react-router";
import type { Permission } from "../auth/roles";
import { useSession } from "../auth/session";
import { useI18n, type Lang, type MessageKey } from "../i18n";

const NAV: { to: string; label: MessageKey; permission: Permission }[] = [
  { to: "/", label: "nav.overview", permission: "stations.read" },
  { to: "/plays", label: "nav.plays", permission: "plays.read" },
  { to: "/reports", label: "nav.reports", permission: "reports.read" },
  { to: "/catalog", label: "nav.catalog", permission: "catalog.read" },
  { to: "/unknowns", label: "nav.unknowns", permission: "reports.read" },
  { to: "/fleet", label: "nav.fleet", permission: "fleet.read" },
];

export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  const option = (value: Lang, label: MessageKey) => (
    <Button
      size="xs"
      variant={lang === value ? "solid" : "ghost"}
      colorPalette="green"
      aria-pressed={lang === value}
      onClick={() => setLang(value)}
      lang={value}
    >
      {t(label)}
    </Button>
  );
  return (
    <HStack gap="0" role="group" aria-label={t("nav.language")}>
      {option("fr", "nav.french")}
      {option("en", "nav.english")}
    </HStack>
  );
}

export function Layout() {
  const { t } = useI18n();
  const { me, can, signOut } = useSession();
  return (
    <Box minH="100vh">
      <Link
        href="#main"
        position="absolute"
        left="-999px"
        _focus={{ left: "2", top: "2", zIndex: "overlay", bg: "white", p: "2" }}
      >
        {t("nav.skip")}
      </Link>
      <Box as="header" bg="green.800" color="white" px={{ base: "3", md: "6" }} py="2">
        <Flex align="center" gap="3" wrap="wrap">
          <Text fontWeight="bold" fontSize="lg">
            {t("app.name")}
          </Text>
          <Box as="nav" aria-label={t("nav.main")} flex="1">
            <HStack as="ul" listStyleType="none" gap="1" wrap="wrap">
              {NAV.filter((item) => can(item.permission)).map((item) => (
                <li key={item.to}>
                  <Link
                    asChild
                    color="white"
                    px="2.5"
                    py="1.5"
                    fontSize="sm"
                    borderRadius="md"
                    _hover={{ bg: "green.700" }}
                    css={{ "&[aria-current=page]": { bg: "green.600", fontWeight: "semibold" } }}
                  >
                    <NavLink to={item.to} end={item.to === "/"}>
                      {t(item.label)}
                    </NavLink>
                  </Link>
                </li>
              ))}
            </HStack>
          </Box>
          <HStack gap="3">
            <Box bg="white" borderRadius="md" p="0.5">
              <LanguageSwitch />
            </Box>
            {me && (
              <Text fontSize="sm">
                {me.name}{" "}
                <Badge colorPalette={me.role === "admin" ? "orange" : "blue"} variant="solid">
                  {t(me.role === "admin" ? "role.admin" : "role.analyst")}
                </Badge>
              </Text>
            )}
            <Button size="sm" variant="outline" color="white" _hover={{ bg: "green.700" }} onClick={signOut}>
              {t("nav.signOut")}
            </Button>
          </HStack>
        </Flex>
      </Box>
      <Box as="main" id="main" tabIndex={-1} px={{ base: "3", md: "6" }} py="5" maxW="1400px" mx="auto">
        <Outlet />
      </Box>
    </Box>
  );
}
