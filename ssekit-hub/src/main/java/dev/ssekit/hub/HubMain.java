package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.ssekit.Broadcaster;
import dev.ssekit.Scheduler;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;

/**
 * Starts the hub: {@code java -m dev.ssekit.hub/dev.ssekit.hub.HubMain [options]} (see {@code
 * --help}). Without a publisher key it runs in demo mode with a generated development key, printed
 * with ready-made publisher and subscriber tokens.
 */
public final class HubMain {

    /** The issuer of the demo key's tokens when no {@code --issuer} is given. */
    static final String DEMO_ISSUER = "urn:ssekit:demo";
    /** How long the printed demo tokens hold. */
    static final java.time.Duration DEMO_TOKEN_LIFETIME = java.time.Duration.ofDays(30);

    private HubMain() {
    }

    /** The hub URL a listen address serves, for the demo's resource identifier (a wildcard address as localhost). */
    static String demoHubUrl(java.net.InetSocketAddress listen, boolean tls) {
        java.net.InetAddress a = listen.getAddress();
        String host = a == null ? listen.getHostString() : a.isAnyLocalAddress() ? "localhost"
                : a instanceof java.net.Inet6Address ? "[" + a.getHostAddress() + "]" : a.getHostAddress();
        return (tls ? "https" : "http") + "://" + host + ":" + listen.getPort() + HubHandler.PATH;
    }

    /** The listen address with a port the system has free now (demo mode with port 0: its URL is printed in its tokens). */
    private static java.net.InetSocketAddress freePort(java.net.InetSocketAddress listen) {
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, listen.getAddress())) {
            return new java.net.InetSocketAddress(listen.getAddress(), probe.getLocalPort());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot find a free port on " + listen.getHostString(), e);
        }
    }

    /**
     * Runs the hub until the process is stopped (SIGTERM closes it gracefully).
     *
     * @param args options; see {@code --help}
     */
    public static void main(String[] args) {
        HubOptions options;
        try {
            options = HubOptions.parse(args, System.getenv());
        } catch (HubOptions.HelpRequested help) {
            System.out.print(HubOptions.USAGE);
            return;
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.print(HubOptions.USAGE);
            System.exit(2);
            return;
        }
        LogFormat.install(options.logFormat());
        String demoKey = null;
        String[] demo = null; // issuer, audience
        if (!options.hasPublisherKeys()) {
            if (options.algorithm().filter(a -> !a.startsWith("HS")).isPresent()) {
                System.err.println("error: --jwt-alg " + options.algorithm().get()
                        + " needs --publisher-jwt-key (a PEM public key) or --publisher-jwks-url");
                System.exit(2);
            }
            byte[] random = new byte[32];
            new SecureRandom().nextBytes(random);
            demoKey = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        }
        JwtVerifier publishers;
        JwtVerifier subscribers;
        HubConfig.Protocol protocol;
        java.net.InetSocketAddress listen = options.listen();
        String publisherToken = "";
        String subscriberToken = "";
        try {
            java.util.function.Supplier<java.net.http.HttpClient> http = () -> java.net.http.HttpClient.newBuilder()
                    .connectTimeout(JwtVerifier.FETCH_TIMEOUT).followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();
            publishers = options.publisherVerifier(java.util.Optional.ofNullable(demoKey), http);
            subscribers = options.subscriberVerifier(publishers, http);
            protocol = options.protocol(publishers, subscribers, demoKey == null ? HubConfig.Protocol.UNNAMED_ISSUER : DEMO_ISSUER, http);
            if (demoKey != null) {
                // Mercure 1.0 tokens for the demo key: they name its issuer and the hub's resource identifier, which
                // demo mode pins (to --resource-id, else this hub's URL) so that they hold whatever Host a client uses
                if (listen.getPort() == 0) {
                    listen = freePort(listen); // the URL, hence the tokens' aud, must be known before the hub starts
                }
                String audience = protocol.resourceId().orElse(demoHubUrl(listen, options.selfSigned() || options.tlsCert().isPresent()));
                protocol = new HubConfig.Protocol(protocol.compatibility(), protocol.issuers(), java.util.Optional.of(audience),
                        protocol.publicUrls(), protocol.maxConnectionsPerClient(), protocol.trustedProxies());
                JwtVerifier demoKeys = publishers;
                String issuer = protocol.issuers().stream().filter(i -> i.publisher().filter(v -> v == demoKeys).isPresent())
                        .findFirst().orElseThrow().id();
                java.time.Instant now = java.time.Instant.now();
                publisherToken = Tokens.accessToken(issuer, audience, "publish", now, DEMO_TOKEN_LIFETIME, demoKey.getBytes(UTF_8));
                subscriberToken = Tokens.accessToken(issuer, audience, "subscribe", now, DEMO_TOKEN_LIFETIME, demoKey.getBytes(UTF_8));
                demo = new String[] {issuer, audience};
            }
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        java.util.Optional<CertificateFiles> tls;
        try {
            if (options.selfSigned()) {
                tls = java.util.Optional.of(CertificateFiles.selfSigned(options.data().resolve("tls"), Scheduler.system(),
                        CertificateFiles.POLL, Clock.systemUTC()));
            } else {
                tls = options.tlsCert().map(cert -> CertificateFiles.watch(cert, options.tlsKey().orElseThrow(),
                        Scheduler.system(), CertificateFiles.POLL));
            }
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        HubConfig config = new HubConfig(listen, publishers, subscribers, options.anonymous(), options.corsOrigins(),
                options.maxBodyBytes(), options.maxTopics(), options.maxConnections(), options.subscriptions(),
                options.demo(), publisherToken, options.headerTimeout(), tls, options.limits(), protocol);
        dev.ssekit.spi.EventLog history;
        if (options.redis().isPresent()) {
            // history lives in Redis; each node keeps the newest --history-events in memory
            try {
                history = dev.ssekit.redis.RedisEventLog.builder(options.redis().get()).maxLength(options.historyEvents())
                        .replicas(options.redisReplicas())
                        .history(options.historyEvents(), (long) options.historyMegabytes() << 20, options.historyAge()).build();
            } catch (IllegalArgumentException | IllegalStateException e) {
                System.err.println("error: --redis: " + e.getMessage());
                System.exit(2);
                return;
            }
        } else {
            try {
                history = dev.ssekit.spi.EventLog.file(options.data(), options.historyEvents(),
                        (long) options.historyMegabytes() << 20, options.historyAge(), dev.ssekit.Ticker.system(), options.fsync());
            } catch (java.io.UncheckedIOException e) {
                System.err.println("error: --data " + options.data() + ": " + e.getMessage());
                System.exit(2);
                return;
            }
        }
        Broadcaster broadcaster = Broadcaster.builder().heartbeat(options.heartbeat()).log(history).build();
        MercureHub hub = MercureHub.start(config, options.lifetime(), broadcaster, Scheduler.system(), Clock.systemUTC());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // SIGTERM: drain, close, then exit 0 (a stop that went as planned; not the JVM's 143 for a signal)
            hub.close();
            System.out.flush();
            System.err.flush();
            Runtime.getRuntime().halt(0);
        }, "ssekit-hub-shutdown"));
        String base = hub.scheme() + "://" + hub.address().getHostString() + ":" + hub.address().getPort();
        String url = base + HubHandler.PATH;
        System.out.println("ssekit hub on " + url + " (history in "
                + options.redis().map(r -> "Redis at " + r.replaceAll("//[^@/]*@", "//")).orElse(options.data().toAbsolutePath().toString()) + ")");
        if (options.demo()) {
            System.out.println("demo page:        " + base + "/");
        }
        if (demoKey != null) {
            System.out.println("demo mode: development JWT key (HS256): " + demoKey);
            System.out.println("issuer:           " + demo[0]);
            System.out.println("audience:         " + demo[1]);
            System.out.println("publisher token:  " + publisherToken);
            System.out.println("subscriber token: " + subscriberToken);
            System.out.println("(Mercure 1.0 access tokens, RFC 9068 at+jwt: authorization_details grant publish, resp. subscribe,"
                    + " on every topic (*); they expire in " + DEMO_TOKEN_LIFETIME.toDays() + " days)");
        }
        if (options.subscriptions()) {
            // the token in the fragment stays in the browser: the page reads it, the server never sees it
            System.out.println("status page:      " + base + StatusFeed.PAGE + (subscriberToken.isEmpty() ? "" : "#token=" + subscriberToken));
        }
        hub.metricsAddress().ifPresent(m -> System.out.println("metrics:          http://" + m.getHostString() + ":" + m.getPort()
                + "/metrics"));
        if (options.selfSigned()) {
            System.out.println("TLS certificate:  self-signed for localhost, SHA-256 fingerprint "
                    + SelfSignedCertificate.fingerprint(tls.orElseThrow().certificate()) + " (browsers warn: check this)");
        } else {
            tls.ifPresent(files -> System.out.println("TLS certificate:  " + files.certificate().getSubjectX500Principal().getName()
                    + " from " + options.tlsCert().orElseThrow() + " (reloaded when it changes)"));
        }
    }
}
