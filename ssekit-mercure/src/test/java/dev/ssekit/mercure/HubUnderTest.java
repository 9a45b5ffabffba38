package dev.ssekit.mercure;

import dev.ssekit.testkit.HubJvm;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The real ssekit hub ({@link HubJvm}: a JVM of its own) in Mercure 1.0 mode: {@code --issuer
 * ISSUER --publisher-jwt-key KEY} (subscribers' key: the same), anonymous subscribers allowed, the
 * audience derived from each request (the hub URL). {@link #close()} sends SIGTERM.
 *
 * @param hub the hub's JVM
 */
record HubUnderTest(HubJvm hub) implements AutoCloseable {

    static final String ISSUER = "https://issuer.test";
    static final String KEY = "!ChangeThisMercureHubJWTSecretKey!";

    /** Starts a hub with the default issuer and key, and {@code more} options. */
    static HubUnderTest start(Path data, String... more) throws IOException {
        return startWithKey(data, KEY, more);
    }

    /**
     * Starts a hub with the default issuer, {@code key} as its {@code --publisher-jwt-key} (an HMAC
     * secret or a PEM public key), and {@code more} options.
     */
    static HubUnderTest startWithKey(Path data, String key, String... more) throws IOException {
        List<String> args = new ArrayList<>(List.of("--data", data.toString(), "--issuer", ISSUER, "--publisher-jwt-key", key,
                "--anonymous", "true"));
        args.addAll(List.of(more));
        return new HubUnderTest(HubJvm.start(args.toArray(String[]::new)));
    }

    /** The hub URL it printed, {@code http://127.0.0.1:PORT/.well-known/mercure}. */
    URI url() {
        return hub.url();
    }

    /** A client of this hub minting tokens with the hub's issuer and key. */
    MercureClient.Builder client() {
        return MercureClient.builder(url()).issuer(ISSUER).key(KEY);
    }

    String output() {
        return hub.output();
    }

    @Override
    public void close() {
        hub.close();
    }
}
