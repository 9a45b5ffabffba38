package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The hub's command line and environment. Flags win over environment variables; every error names
 * the flag or variable and its value.
 *
 * @param listen {@code --listen HOST:PORT} / {@code SSEKIT_LISTEN}; default {@code 127.0.0.1:8080}
 * @param publisherKey {@code --publisher-jwt-key} / {@code SSEKIT_PUBLISHER_JWT_KEY} or {@code
 *     MERCURE_PUBLISHER_JWT_KEY}; empty: demo mode generates one
 * @param subscriberKey {@code --subscriber-jwt-key} / {@code SSEKIT_SUBSCRIBER_JWT_KEY} or {@code
 *     MERCURE_SUBSCRIBER_JWT_KEY}; default: the publisher key
 * @param algorithm {@code --jwt-alg} / {@code SSEKIT_JWT_ALG}: {@code HS256} (the key is the secret)
 *     or {@code RS256} (the key is a PEM public key)
 * @param anonymous {@code --anonymous true|false} / {@code SSEKIT_ANONYMOUS}; default true
 * @param corsOrigins {@code --cors-origins a,b} / {@code SSEKIT_CORS_ORIGINS}; default none
 * @param maxConnections {@code --max-connections} / {@code SSEKIT_MAX_CONNECTIONS}; default 15000
 * @param maxBodyBytes {@code --max-body-bytes} / {@code SSEKIT_MAX_BODY_BYTES}; default 1 MiB
 * @param maxTopics {@code --max-topics} / {@code SSEKIT_MAX_TOPICS}; default 1000
 * @param heartbeat {@code --heartbeat SECONDS} / {@code SSEKIT_HEARTBEAT}; default 15
 * @param headerTimeout {@code --header-timeout SECONDS} / {@code SSEKIT_HEADER_TIMEOUT}: a new
 *     connection's first request head must arrive within it; default 10
 * @param data {@code --data DIR} / {@code SSEKIT_DATA}: the durable history; default {@code ssekit-data}
 * @param fsync {@code --fsync true|false} / {@code SSEKIT_FSYNC}: force each publish to the device
 *     before answering; default false (a published event survives a killed hub, not a power loss)
 * @param historyEvents {@code --history-events} / {@code SSEKIT_HISTORY_EVENTS}; default 100000
 * @param historyMegabytes {@code --history-mb} / {@code SSEKIT_HISTORY_MB}: encoded bytes kept, in MiB; default 256
 * @param historyAge {@code --history-hours} / {@code SSEKIT_HISTORY_HOURS}: the oldest event kept; default 168 (7 days)
 * @param demo {@code --demo true|false} / {@code SSEKIT_DEMO}: serve the demo page at {@code /};
 *     default true when no publisher key is configured
 * @param subscriptions {@code --subscriptions true|false} / {@code SSEKIT_SUBSCRIPTIONS}: publish
 *     and list active subscriptions; default: as {@code demo}
 * @param logFormat {@code --log-format text|json} / {@code SSEKIT_LOG_FORMAT}; default text
 * @param redis {@code --redis redis://HOST:PORT} / {@code SSEKIT_REDIS}: share events with every
 *     hub on that Redis (history in Redis instead of {@code --data}); default: none, one node
 * @param tlsCert {@code --tls-cert FILE} / {@code SSEKIT_TLS_CERT}: the PEM certificate chain for
 *     HTTPS (with {@code tlsKey}; both or neither); default: none, cleartext HTTP
 * @param tlsKey {@code --tls-key FILE} / {@code SSEKIT_TLS_KEY}: its PEM private key (PKCS#8)
 */
record HubOptions(InetSocketAddress listen, Optional<String> publisherKey, Optional<String> subscriberKey, String algorithm,
        boolean anonymous, Set<String> corsOrigins, int maxConnections, int maxBodyBytes, int maxTopics, Duration heartbeat, Duration headerTimeout,
        java.nio.file.Path data, boolean fsync, int historyEvents, int historyMegabytes, Duration historyAge, boolean demo, boolean subscriptions, String logFormat,
        Optional<String> redis, Optional<java.nio.file.Path> tlsCert, Optional<java.nio.file.Path> tlsKey) {

    static final String USAGE = """
            usage: ssekit-hub [options]   (each also as an environment variable, flags win)
              --listen HOST:PORT            SSEKIT_LISTEN              default 127.0.0.1:8080
              --publisher-jwt-key KEY       SSEKIT_PUBLISHER_JWT_KEY, MERCURE_PUBLISHER_JWT_KEY
              --subscriber-jwt-key KEY      SSEKIT_SUBSCRIBER_JWT_KEY, MERCURE_SUBSCRIBER_JWT_KEY (default: publisher key)
              --jwt-alg HS256|RS256         SSEKIT_JWT_ALG             default HS256 (RS256: keys are PEM public keys)
              --anonymous true|false        SSEKIT_ANONYMOUS           default true
              --cors-origins A,B            SSEKIT_CORS_ORIGINS        default none (* for any)
              --max-connections N           SSEKIT_MAX_CONNECTIONS     default 15000 (then 503)
              --max-body-bytes N            SSEKIT_MAX_BODY_BYTES      default 1048576 (then 413)
              --max-topics N                SSEKIT_MAX_TOPICS          default 1000
              --heartbeat SECONDS           SSEKIT_HEARTBEAT           default 15
              --header-timeout SECONDS      SSEKIT_HEADER_TIMEOUT      default 10 (slow request heads are cut off)
              --data DIR                    SSEKIT_DATA                default ssekit-data (durable history)
              --fsync true|false            SSEKIT_FSYNC               default false (true: survive power loss)
              --history-events N            SSEKIT_HISTORY_EVENTS      default 100000 (the oldest go first)
              --history-mb N                SSEKIT_HISTORY_MB          default 256 (MiB of encoded events)
              --history-hours N             SSEKIT_HISTORY_HOURS       default 168 (7 days)
              --demo true|false             SSEKIT_DEMO                default true without a publisher key (page at /)
              --subscriptions true|false    SSEKIT_SUBSCRIPTIONS       default as --demo (active subscriptions API and events)
              --log-format text|json        SSEKIT_LOG_FORMAT          default text (one line per record, access log included)
              --redis redis://HOST:PORT     SSEKIT_REDIS               default none (one node; set: every hub on it shares events)
              --tls-cert FILE               SSEKIT_TLS_CERT            default none (PEM chain: HTTPS, HTTP/2; reloaded when changed)
              --tls-key FILE                SSEKIT_TLS_KEY             default none (its PEM PKCS#8 key; both or neither)
            Without a publisher key the hub runs in demo mode: it makes a development key and prints it.
            """;

    private static final Map<String, String[]> ENV = Map.ofEntries(
            Map.entry("--listen", new String[] {"SSEKIT_LISTEN"}),
            Map.entry("--publisher-jwt-key", new String[] {"SSEKIT_PUBLISHER_JWT_KEY", "MERCURE_PUBLISHER_JWT_KEY"}),
            Map.entry("--subscriber-jwt-key", new String[] {"SSEKIT_SUBSCRIBER_JWT_KEY", "MERCURE_SUBSCRIBER_JWT_KEY"}),
            Map.entry("--jwt-alg", new String[] {"SSEKIT_JWT_ALG"}),
            Map.entry("--anonymous", new String[] {"SSEKIT_ANONYMOUS"}),
            Map.entry("--cors-origins", new String[] {"SSEKIT_CORS_ORIGINS"}),
            Map.entry("--max-connections", new String[] {"SSEKIT_MAX_CONNECTIONS"}),
            Map.entry("--max-body-bytes", new String[] {"SSEKIT_MAX_BODY_BYTES"}),
            Map.entry("--max-topics", new String[] {"SSEKIT_MAX_TOPICS"}),
            Map.entry("--heartbeat", new String[] {"SSEKIT_HEARTBEAT"}),
            Map.entry("--header-timeout", new String[] {"SSEKIT_HEADER_TIMEOUT"}),
            Map.entry("--data", new String[] {"SSEKIT_DATA"}),
            Map.entry("--fsync", new String[] {"SSEKIT_FSYNC"}),
            Map.entry("--history-events", new String[] {"SSEKIT_HISTORY_EVENTS"}),
            Map.entry("--history-mb", new String[] {"SSEKIT_HISTORY_MB"}),
            Map.entry("--history-hours", new String[] {"SSEKIT_HISTORY_HOURS"}),
            Map.entry("--demo", new String[] {"SSEKIT_DEMO"}),
            Map.entry("--subscriptions", new String[] {"SSEKIT_SUBSCRIPTIONS"}),
            Map.entry("--log-format", new String[] {"SSEKIT_LOG_FORMAT"}),
            Map.entry("--redis", new String[] {"SSEKIT_REDIS"}),
            Map.entry("--tls-cert", new String[] {"SSEKIT_TLS_CERT"}),
            Map.entry("--tls-key", new String[] {"SSEKIT_TLS_KEY"}));

    /** Thrown for {@code --help}: not an error. */
    static final class HelpRequested extends Exception {
        private static final long serialVersionUID = 1L;
    }

    static HubOptions parse(String[] args, Map<String, String> env) throws HelpRequested {
        Map<String, String> flags = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                throw new HelpRequested();
            }
            String name = a;
            String value;
            int eq = a.indexOf('=');
            if (eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException(a + " needs a value");
            }
            if (!ENV.containsKey(name)) {
                throw new IllegalArgumentException("unknown option " + name + " (see --help)");
            }
            flags.put(name, value);
        }
        Setting listen = setting("--listen", flags, env);
        Setting alg = setting("--jwt-alg", flags, env);
        String algorithm = alg.value().orElse("HS256").toUpperCase(java.util.Locale.ROOT);
        if (!algorithm.equals("HS256") && !algorithm.equals("RS256")) {
            throw new IllegalArgumentException(alg.name() + " must be HS256 or RS256, got \"" + alg.value().get() + "\"");
        }
        boolean anon = bool(setting("--anonymous", flags, env), true);
        Setting format = setting("--log-format", flags, env);
        String logFormat = format.value().orElse("text");
        if (!logFormat.equals("text") && !logFormat.equals("json")) {
            throw new IllegalArgumentException(format.name() + " must be text or json, got \"" + logFormat + "\"");
        }
        Optional<String> publisherKey = setting("--publisher-jwt-key", flags, env).value();
        boolean demo = bool(setting("--demo", flags, env), publisherKey.isEmpty());
        boolean subscriptions = bool(setting("--subscriptions", flags, env), demo);
        Set<String> origins = new LinkedHashSet<>();
        setting("--cors-origins", flags, env).value().ifPresent(v -> Arrays.stream(v.split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).forEach(origins::add));
        Setting tlsCert = setting("--tls-cert", flags, env);
        Setting tlsKey = setting("--tls-key", flags, env);
        if (tlsCert.value().isPresent() != tlsKey.value().isPresent()) {
            throw new IllegalArgumentException((tlsCert.value().isPresent() ? tlsCert.name() : tlsKey.name())
                    + " needs " + (tlsCert.value().isPresent() ? "--tls-key (SSEKIT_TLS_KEY)" : "--tls-cert (SSEKIT_TLS_CERT)")
                    + ": HTTPS takes both the certificate and its key");
        }
        return new HubOptions(
                address(listen.name(), listen.value().orElse("127.0.0.1:8080")),
                publisherKey,
                setting("--subscriber-jwt-key", flags, env).value(),
                algorithm, anon, origins,
                positive(setting("--max-connections", flags, env), 15_000),
                positive(setting("--max-body-bytes", flags, env), 1 << 20),
                positive(setting("--max-topics", flags, env), 1000),
                Duration.ofSeconds(positive(setting("--heartbeat", flags, env), 15)),
                Duration.ofSeconds(positive(setting("--header-timeout", flags, env), 10)),
                java.nio.file.Path.of(setting("--data", flags, env).value().orElse("ssekit-data")),
                bool(setting("--fsync", flags, env), false),
                positive(setting("--history-events", flags, env), 100_000),
                positive(setting("--history-mb", flags, env), 256),
                Duration.ofHours(positive(setting("--history-hours", flags, env), 168)),
                demo, subscriptions, logFormat, setting("--redis", flags, env).value(),
                tlsCert.value().map(java.nio.file.Path::of), tlsKey.value().map(java.nio.file.Path::of));
    }

    private static boolean bool(Setting s, boolean fallback) {
        String v = s.value().orElse(Boolean.toString(fallback));
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException(s.name() + " must be true or false, got \"" + v + "\"");
        }
        return v.equals("true");
    }

    /** A setting's value and where it came from (the flag, or the variable that supplied it). */
    private record Setting(String name, Optional<String> value) {
    }

    private static Setting setting(String flag, Map<String, String> flags, Map<String, String> env) {
        if (flags.containsKey(flag)) {
            return new Setting(flag, Optional.of(flags.get(flag)));
        }
        for (String var : ENV.get(flag)) {
            String v = env.get(var);
            if (v != null && !v.isEmpty()) {
                return new Setting(var, Optional.of(v));
            }
        }
        return new Setting(flag, Optional.empty());
    }

    private static int positive(Setting s, int fallback) {
        if (s.value().isEmpty()) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(s.value().get().trim());
            if (n < 1) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(s.name() + " must be a positive integer, got \"" + s.value().get() + "\"");
        }
    }

    static InetSocketAddress address(String setting, String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw new IllegalArgumentException(setting + " must be HOST:PORT, got \"" + value + "\"");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            int port = Integer.parseInt(value.substring(colon + 1));
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return new InetSocketAddress(host, port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(setting + " must have a port from 0 to 65535, got \"" + value + "\"");
        }
    }

    /**
     * The verifier for a configured key (a PEM public key or an HMAC secret), pinned to {@code
     * --jwt-alg}, with the setting named in errors.
     */
    JwtVerifier verifier(String setting, String key) {
        return JwtVerifier.fromSetting(setting, key, Optional.of(algorithm));
    }
}
