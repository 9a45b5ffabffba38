package dev.ssekit.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Runs the Node scripts of src/test/browser (playwright-core driving Debian's Chromium). */
final class BrowserScripts {

    private BrowserScripts() {
    }

    /** Checks Chromium and the npm install are there, runs {@code node script args…}, returns its output. */
    static String run(String script, String... args) throws Exception {
        Path chromium = Path.of(System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium"));
        assertThat(Files.isExecutable(chromium))
                .as("Chromium at %s (bin/test installs Debian's chromium; or set CHROMIUM)", chromium).isTrue();
        Path scripts = Path.of("src/test/browser").toAbsolutePath();
        assertThat(scripts.resolve("node_modules/playwright-core")).as("npm ci ran in %s", scripts).isDirectory();
        String[] cmd = new String[args.length + 2];
        cmd[0] = "node";
        cmd[1] = script;
        System.arraycopy(args, 0, cmd, 2, args.length);
        Process node = new ProcessBuilder(cmd).directory(scripts.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        boolean finished = node.waitFor(120, TimeUnit.SECONDS);
        if (!finished) {
            node.destroyForcibly();
        }
        String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(finished).as("%s finished; output so far: %s", script, out).isTrue();
        assertThat(node.exitValue()).as("%s exit code; output: %s", script, out).isZero();
        return out;
    }

    /** A fresh screenshot path under target/browser (the file is removed if it exists). */
    static Path screenshot(String name) throws Exception {
        Path shot = Path.of("target/browser", name).toAbsolutePath();
        Files.createDirectories(shot.getParent());
        Files.deleteIfExists(shot);
        return shot;
    }
}
