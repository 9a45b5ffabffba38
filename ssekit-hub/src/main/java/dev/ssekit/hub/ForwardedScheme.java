package dev.ssekit.hub;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The scheme a client used, for the audience derived from a request when no {@code --resource-id}
 * is set: the hub's own (TLS or not), unless the peer is one of the {@code --trusted-proxies}, whose
 * {@code Forwarded: proto=} (RFC 7239), else {@code X-Forwarded-Proto}, says {@code http} or {@code
 * https}. Of several hops the first (the one the client reached) counts. An untrusted peer's headers
 * are never read: it could otherwise make a token minted for one scheme count for the other.
 * Stateless and thread-safe.
 */
final class ForwardedScheme {

    private ForwardedScheme() {
    }

    /**
     * @param req the request, with its peer ({@link HubRequest#remote()})
     * @param tls whether the hub itself serves TLS
     * @param trustedProxies the peers whose forwarding headers are believed
     * @return {@code "https"} or {@code "http"}
     */
    static String of(HubRequest req, boolean tls, Set<String> trustedProxies) {
        String own = tls ? "https" : "http";
        if (req.remote().isEmpty() || !trustedProxies.contains(req.remote())) {
            return own;
        }
        return forwarded(req.header("Forwarded")).or(() -> first(req.header("X-Forwarded-Proto"))).orElse(own);
    }

    /** The first {@code proto=} of a Forwarded header, if it is http or https. */
    private static Optional<String> forwarded(String header) {
        if (header == null) {
            return Optional.empty();
        }
        for (String element : header.split(",")) {
            for (String pair : element.split(";")) {
                String p = pair.strip();
                if (p.regionMatches(true, 0, "proto=", 0, 6)) {
                    return scheme(p.substring(6).replace("\"", ""));
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<String> first(String header) {
        if (header == null) {
            return Optional.empty();
        }
        int comma = header.indexOf(',');
        return scheme(comma < 0 ? header : header.substring(0, comma));
    }

    private static Optional<String> scheme(String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        return v.equals("https") || v.equals("http") ? Optional.of(v) : Optional.empty();
    }
}
