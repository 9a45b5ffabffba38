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

    private HubMain() {
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
        String publisherToken = demoKey == null ? ""
                : Tokens.hs256("{\"mercure\":{\"publish\":[\"*\"]}}", demoKey.getBytes(UTF_8));
        JwtVerifier publishers;
        JwtVerifier subscribers;
        HubConfig.Protocol protocol;
        try {
            java.util.function.Supplier<java.net.http.HttpClient> http = () -> java.net.http.HttpClient.newBuilder()
                    .connectTimeout(JwtVerifier.FETCH_TIMEOUT).followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();
            publishers = options.publisherVerifier(java.util.Optional.ofNullable(demoKey), http);
            subscribers = options.subscriberVerifier(publishers, http);
            protocol = options.protocol(publishers, subscribers, HubConfig.Protocol.UNNAMED_ISSUER, http);
            if (demoKey != null && !protocol.compat()) {
                // the demo page and the printed tokens are still Mercure 0.x: demo mode serves both (issue #24, item 6 open)
                protocol = new HubConfig.Protocol(8, protocol.issuers(), protocol.resourceId(), protocol.publicUrls(),
                        protocol.maxConnectionsPerClient(), protocol.trustedProxies());
            }
        } catch (IllegalArgumentException e) {
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
        HubConfig config = new HubConfig(options.listen(), publishers, subscribers, options.anonymous(), options.corsOrigins(),
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
        String subscriberToken = demoKey == null ? "" : Tokens.hs256("{\"mercure\":{\"subscribe\":[\"*\"]}}", demoKey.getBytes(UTF_8));
        if (demoKey != null) {
            System.out.println("demo mode: development JWT key (HS256): " + demoKey);
            System.out.println("publisher token:  " + publisherToken);
            System.out.println("subscriber token: " + subscriberToken);
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
