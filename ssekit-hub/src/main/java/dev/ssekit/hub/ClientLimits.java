package dev.ssekit.hub;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The per-client stream limit (Mercure 1.0 L188-191: per-client limits SHOULD exist; 429 MAY be
 * answered): at most {@code max} streams per client address. The client is the peer's address, or,
 * when the peer is one of the trusted proxies, the address its {@code Forwarded} ({@code for=}) or
 * else {@code X-Forwarded-For} header names: the rightmost one that is not itself a trusted proxy
 * (the leftmost entries are whatever the client wrote). A request without a peer address (the
 * socket-free tests), or from a loopback peer that is not a trusted proxy, is not counted. Thread-safe; each slot is released once.
 */
final class ClientLimits {

    private final int max;
    private final Set<String> trustedProxies;
    private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();

    /**
     * @param max the most streams one client may hold
     * @param trustedProxies the proxies' IP addresses, as the peer address is written
     */
    ClientLimits(int max, Set<String> trustedProxies) {
        this.max = max;
        this.trustedProxies = Set.copyOf(trustedProxies);
    }

    /**
     * The client a request counts for; "" when unknown or not limited: a loopback peer that is not a
     * trusted proxy is not limited (a reverse proxy on the same host that does not say who its clients
     * are would otherwise put every user under one client's limit).
     */
    String client(HubRequest req) {
        String peer = req.remote();
        if (peer.isEmpty()) {
            return peer;
        }
        if (!trustedProxies.contains(peer)) {
            return loopback(peer) ? "" : peer;
        }
        List<String> hops = forwarded(req);
        for (int i = hops.size() - 1; i >= 0; i--) {
            String hop = hops.get(i);
            if (!trustedProxies.contains(hop)) {
                return hop;
            }
        }
        return peer;
    }

    /** Whether an IP address literal is a loopback address (127.0.0.0/8, ::1), without a lookup. */
    static boolean loopback(String ip) {
        return ip.startsWith("127.") || ip.equals("::1") || ip.equals("0:0:0:0:0:0:0:1");
    }

    /** The addresses a Forwarded (else X-Forwarded-For) header lists, in order. */
    private static List<String> forwarded(HubRequest req) {
        String fwd = req.header("Forwarded");
        if (fwd != null) {
            List<String> out = new java.util.ArrayList<>();
            for (String element : fwd.split(",")) {
                for (String pair : element.split(";")) {
                    String p = pair.strip();
                    if (p.toLowerCase(Locale.ROOT).startsWith("for=")) {
                        String v = p.substring(4).replace("\"", "");
                        if (v.startsWith("[")) {
                            v = v.substring(1, v.indexOf(']') > 0 ? v.indexOf(']') : v.length());
                        } else if (v.indexOf(':') > 0 && v.indexOf(':') == v.lastIndexOf(':')) {
                            v = v.substring(0, v.indexOf(':')); // IPv4 with a port
                        }
                        out.add(v);
                    }
                }
            }
            return out;
        }
        String xff = req.header("X-Forwarded-For");
        return xff == null ? List.of() : java.util.Arrays.stream(xff.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /**
     * Takes a slot for the client.
     *
     * @return the release (idempotent), or empty when the client holds {@code max} streams already
     */
    Optional<Runnable> acquire(String client) {
        if (client.isEmpty()) {
            return Optional.of(() -> { });
        }
        boolean[] taken = {false};
        open.compute(client, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= max) {
                return n;
            }
            taken[0] = true;
            return now + 1;
        });
        if (!taken[0]) {
            return Optional.empty();
        }
        AtomicBoolean released = new AtomicBoolean();
        return Optional.of(() -> {
            if (released.compareAndSet(false, true)) {
                open.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
            }
        });
    }

    /** How many streams the client holds now. */
    int held(String client) {
        return open.getOrDefault(client, 0);
    }
}
