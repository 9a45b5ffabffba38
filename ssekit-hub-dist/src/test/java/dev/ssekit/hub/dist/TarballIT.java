package dev.ssekit.hub.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.testkit.RedisServer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ssekit-hub-VERSION-linux-x64.tar.gz: unpacked, its bin/ssekit-hub runs the hub on the runtime
 * inside it, with no JDK on PATH and no JAVA_HOME; {@code --tls self-signed} works there (it runs
 * the runtime's keytool).
 */
@Timeout(240)
class TarballIT {

    @TempDir
    static Path dir;

    /** The unpacked tarball. */
    static Path home;

    /** A directory for PATH that holds only what the launcher uses besides sh's builtins: no java. */
    static Path tools;

    @BeforeAll
    static void unpack() throws Exception {
        Path tarball = Launched.DIST.resolve("ssekit-hub-" + Launched.VERSION + "-linux-x64.tar.gz");
        assertThat(tarball).isRegularFile();
        Launched.run(dir, "tar", "-xzf", tarball.toAbsolutePath().toString());
        home = dir.resolve("ssekit-hub-" + Launched.VERSION);
        tools = Files.createDirectories(dir.resolve("tools"));
        for (String tool : List.of("readlink", "dirname")) {
            Path found = List.of(Path.of("/usr/bin", tool), Path.of("/bin", tool)).stream().filter(Files::isExecutable)
                    .findFirst().orElseThrow();
            Files.createSymbolicLink(tools.resolve(tool), found);
        }
    }

    @Test
    void theUnpackedTarballRunsTheHubOverTlsWithoutAJdk() throws Exception {
        assertThat(home.resolve("bin/ssekit-hub")).isExecutable();
        assertThat(home.resolve("runtime/bin/java")).isExecutable();
        assertThat(home.resolve("runtime/bin/keytool")).isExecutable();
        assertThat(home.resolve("runtime/bin/javac")).as("a runtime, not a JDK").doesNotExist();
        assertThat(home.resolve("app/ssekit-hub.jar")).isRegularFile();
        try (JarFile jar = new JarFile(home.resolve("app/ssekit-hub.jar").toFile())) {
            Attributes manifest = jar.getManifest().getMainAttributes();
            assertThat(manifest.getValue("Main-Class")).isEqualTo("dev.ssekit.hub.HubMain");
            assertThat(manifest.getValue("Class-Path").split(" ")).as("every dependency is packaged")
                    .hasSizeGreaterThan(10).allSatisfy(entry -> assertThat(home.resolve("app").resolve(entry)).isRegularFile());
        }

        Path data = dir.resolve("data");
        Map<String, String> env = Map.of("PATH", tools.toString(), "SSEKIT_PUBLISHER_JWT_KEY", Launched.KEY, "SSEKIT_PROTOCOL_VERSION_COMPATIBILITY", "8",
                "JAVA_OPTS", "-Xmx256m -Dssekit.packaged=yes");
        try (Launched hub = Launched.start(List.of(home.resolve("bin/ssekit-hub").toString(), "--listen", "127.0.0.1:0",
                "--data", data.toString(), "--tls", "self-signed"), env)) {
            assertThat(hub.process().info().command()).as("the process runs the packaged java")
                    .contains(home.resolve("runtime/bin/java").toRealPath().toString());
            assertThat(hub.process().info().arguments()).as("JAVA_OPTS, split into options, go to the JVM").isPresent()
                    .get().satisfies(args -> assertThat(args).contains("-Xmx256m", "-Dssekit.packaged=yes"));
            assertThat(hub.url().getScheme()).isEqualTo("https");
            hub.subscribeAndPublish(trusting(data.resolve("tls/self-signed-cert.pem")));
        }
    }

    /** With --redis, the hub's history and fan-out go through Lettuce: that runs on the packaged runtime too. */
    @Test
    void theUnpackedTarballRunsTheHubOnRedis() throws Exception {
        try (RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")));
                Launched hub = Launched.start(List.of(home.resolve("bin/ssekit-hub").toString(), "--listen", "127.0.0.1:0",
                        "--redis", redis.uri()), Map.of("PATH", tools.toString(), "SSEKIT_PUBLISHER_JWT_KEY", Launched.KEY, "SSEKIT_PROTOCOL_VERSION_COMPATIBILITY", "8"))) {
            assertThat(hub.output()).contains("(history in Redis at ");
            hub.subscribeAndPublish(null);
            assertThat(redis.calls("evalsha")).as("the event was appended to the Redis stream").isPositive();
        }
    }

    /** A TLS context that trusts exactly the certificates in this PEM file. */
    static SSLContext trusting(Path pem) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(pem)) {
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("hub-" + i++, c);
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
