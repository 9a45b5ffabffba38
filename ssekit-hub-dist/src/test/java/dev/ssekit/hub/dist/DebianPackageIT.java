package dev.ssekit.hub.dist;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * ssekit-hub_DEBVERSION_amd64.deb: its fields, files and maintainer scripts as dpkg-deb shows them;
 * its systemd unit; and the hub it installs, run from an extracted root with the configuration the
 * package ships.
 */
@Timeout(240)
class DebianPackageIT {

    private static final String DEB_VERSION = Launched.VERSION.replace('-', '~');
    private static final Path DEB = Launched.DIST.resolve("ssekit-hub_" + DEB_VERSION + "_amd64.deb").toAbsolutePath();

    @TempDir
    Path dir;

    @Test
    void theControlFieldsNameTheVersionArchitectureAndDependencies() throws Exception {
        assertThat(Launched.run(dir, "dpkg-deb", "-f", DEB.toString(), "Package", "Version", "Architecture", "Depends"))
                .isEqualTo("Package: ssekit-hub\nVersion: " + DEB_VERSION + "\nArchitecture: amd64\nDepends: libc6, passwd\n");
        // a snapshot sorts before its release
        Launched.run(dir, "dpkg", "--compare-versions", DEB_VERSION, "lt", Launched.VERSION.replaceAll("-.*", ""));
        assertThat(Launched.run(dir, "dpkg-deb", "-I", DEB.toString()))
                .contains(" postinst", " prerm", " postrm", " conffiles", " md5sums");
    }

    @Test
    void theFilesAreTheRuntimeTheLauncherTheUnitAndTheConfiguration() throws Exception {
        Map<String, String> listed = new HashMap<>(); // path -> "mode owner"
        for (String line : Launched.run(dir, "dpkg-deb", "-c", DEB.toString()).split("\n")) {
            String[] f = line.split("\\s+", 6);
            listed.put(f[5], f[0] + " " + f[1]);
        }
        assertThat(listed).allSatisfy((path, mode) -> assertThat(mode).as(path).endsWith(" root/root"));
        assertThat(listed).containsEntry("./usr/lib/ssekit-hub/bin/ssekit-hub", "-rwxr-xr-x root/root")
                .containsEntry("./usr/lib/ssekit-hub/runtime/bin/java", "-rwxr-xr-x root/root")
                .containsEntry("./usr/lib/ssekit-hub/runtime/bin/keytool", "-rwxr-xr-x root/root")
                .containsEntry("./usr/lib/ssekit-hub/app/ssekit-hub.jar", "-rw-r--r-- root/root")
                .containsEntry("./usr/lib/systemd/system/ssekit-hub.service", "-rw-r--r-- root/root")
                .containsEntry("./usr/bin/ssekit-hub -> ../lib/ssekit-hub/bin/ssekit-hub", "lrwxrwxrwx root/root")
                // it holds secrets (a JWT key): systemd reads it as root, nobody else needs to
                .containsEntry("./etc/ssekit-hub/hub.env", "-rw------- root/root");
        // every file is the package's own: nothing lands in a directory that others share but these
        assertThat(listed).allSatisfy((path, mode) -> {
            if (!mode.startsWith("d")) {
                assertThat(path).matches("\\./(usr/lib/ssekit-hub/|usr/bin/ssekit-hub |usr/lib/systemd/system/ssekit-hub\\.service$"
                        + "|etc/ssekit-hub/).*");
            }
        });
    }

    @Test
    void theMaintainerScriptsMakeAndPurgeTheSystemUserAndKeepTheConfiguration() throws Exception {
        Path control = dir.resolve("control");
        Launched.run(dir, "dpkg-deb", "-e", DEB.toString(), control.toString());
        assertThat(Files.readString(control.resolve("conffiles"))).isEqualTo("/etc/ssekit-hub/hub.env\n");
        for (String script : List.of("postinst", "prerm", "postrm")) {
            assertThat(control.resolve(script)).isExecutable();
            Launched.run(dir, "sh", "-n", control.resolve(script).toString()); // parses
        }
        String postinst = Files.readString(control.resolve("postinst")).replaceAll("(?m)^#.*\n", ""); // commands only
        assertThat(postinst).contains("groupadd --system ssekit-hub")
                .contains("useradd --system --gid ssekit-hub --home-dir /var/lib/ssekit-hub --no-create-home")
                .contains("--shell /usr/sbin/nologin")
                .contains("install -d -o ssekit-hub -g ssekit-hub -m 0750 /var/lib/ssekit-hub")
                // the operator sets a key before the first start; an upgrade restarts only a running hub
                .doesNotContain("systemctl start").doesNotContain("systemctl enable").contains("systemctl try-restart");
        String postrm = Files.readString(control.resolve("postrm"));
        assertThat(postrm.substring(postrm.indexOf("if [ \"$1\" = purge ]"))).contains("rm -rf /var/lib/ssekit-hub")
                .contains("userdel ssekit-hub").contains("groupdel ssekit-hub");
        assertThat(Files.readString(control.resolve("prerm"))).contains("systemctl stop ssekit-hub.service");
    }

    @Test
    void theUnitRunsTheHubAsItsOwnUserHardened() throws Exception {
        Path root = extract();
        Path unit = root.resolve("usr/lib/systemd/system/ssekit-hub.service");
        Map<String, List<String>> service = section(Files.readString(unit), "Service");
        assertThat(service).containsEntry("User", List.of("ssekit-hub")).containsEntry("Group", List.of("ssekit-hub"))
                .containsEntry("ExecStart", List.of("/usr/lib/ssekit-hub/bin/ssekit-hub"))
                .containsEntry("EnvironmentFile", List.of("/etc/ssekit-hub/hub.env"))
                .containsEntry("NoNewPrivileges", List.of("yes")).containsEntry("ProtectSystem", List.of("strict"))
                .containsEntry("ProtectHome", List.of("yes")).containsEntry("PrivateTmp", List.of("yes"))
                .containsEntry("ReadWritePaths", List.of("/var/lib/ssekit-hub"))
                .containsEntry("StateDirectory", List.of("ssekit-hub"))
                .containsEntry("Restart", List.of("on-failure"))
                .containsEntry("SuccessExitStatus", List.of("143"));
        assertThat(root.resolve("usr/lib/ssekit-hub/bin/ssekit-hub")).isExecutable();
        assertThat(section(Files.readString(unit), "Install")).containsEntry("WantedBy", List.of("multi-user.target"));

        boolean analyzer = Stream.of("/usr/bin/systemd-analyze", "/bin/systemd-analyze").map(Path::of).anyMatch(Files::isExecutable);
        assumeTrue(analyzer, "systemd-analyze is not installed: the unit was checked by its settings only");
        // systemd-analyze looks for the units the hub's needs (sysinit.target, ...) in the same root
        Path units = root.resolve("usr/lib/systemd/system");
        for (Path system : List.of(Path.of("/usr/lib/systemd/system"), Path.of("/lib/systemd/system"))) {
            if (Files.isDirectory(system)) {
                try (Stream<Path> files = Files.list(system)) {
                    for (Path f : files.filter(Files::isRegularFile).toList()) {
                        if (Files.notExists(units.resolve(f.getFileName()))) {
                            Files.copy(f, units.resolve(f.getFileName()));
                        }
                    }
                }
            }
        }
        // it exits 0 on settings it ignores: whatever it prints is a finding
        assertThat(Launched.run(dir, "systemd-analyze", "verify", "--man=no", "--root=" + root, "ssekit-hub.service"))
                .isEmpty();
    }

    @Test
    void theInstalledLauncherRunsTheHubWithThePackagedConfiguration() throws Exception {
        Path root = extract();
        // hub.env as systemd reads it (VARIABLE=value lines), then what this test changes: a free port, its own data
        Map<String, String> env = new HashMap<>();
        String conf = Files.readString(root.resolve("etc/ssekit-hub/hub.env"), UTF_8);
        for (String line : conf.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                env.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
            }
        }
        assertThat(env).containsEntry("SSEKIT_DATA", "/var/lib/ssekit-hub").containsEntry("SSEKIT_LISTEN", "127.0.0.1:8080");
        Path data = dir.resolve("data");
        env.put("SSEKIT_DATA", data.toString());
        env.put("SSEKIT_LISTEN", "127.0.0.1:0");
        env.put("SSEKIT_PUBLISHER_JWT_KEY", Launched.KEY);
        env.put("SSEKIT_PROTOCOL_VERSION_COMPATIBILITY", "8"); // 0.x tokens (issue #24)
        env.put("PATH", "/usr/bin:/bin");
        try (Launched hub = Launched.start(List.of(root.resolve("usr/bin/ssekit-hub").toString()), env)) {
            assertThat(hub.process().info().command()).as("the process runs the packaged java")
                    .contains(root.resolve("usr/lib/ssekit-hub/runtime/bin/java").toRealPath().toString());
            hub.subscribeAndPublish(null);
        }
        assertThat(data).isDirectoryContaining(p -> p.getFileName().toString().equals("events.log"));

        // every variable hub.env mentions, set or commented out, is one the hub knows
        String help = Launched.run(dir, root.resolve("usr/bin/ssekit-hub").toString(), "--help");
        List<String> mentioned = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^#?(SSEKIT_[A-Z_]+)=").matcher(conf);
        while (m.find()) {
            mentioned.add(m.group(1));
        }
        assertThat(mentioned).hasSizeGreaterThan(20).allSatisfy(variable -> assertThat(help).contains(variable));
    }

    /** The package's files, extracted with dpkg-deb -x into a directory of its own. */
    private Path extract() throws Exception {
        Path root = dir.resolve("root");
        Files.createDirectories(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Launched.run(dir, "dpkg-deb", "-x", DEB.toString(), root.toString());
        return root;
    }

    /** The settings of one section of a unit file, each with its values in order. */
    private static Map<String, List<String>> section(String unit, String name) {
        Map<String, List<String>> settings = new HashMap<>();
        boolean in = false;
        for (String line : unit.split("\n")) {
            if (line.startsWith("[")) {
                in = line.equals("[" + name + "]");
            } else if (in && !line.isBlank() && !line.startsWith("#")) {
                settings.computeIfAbsent(line.substring(0, line.indexOf('=')), k -> new ArrayList<>())
                        .add(line.substring(line.indexOf('=') + 1));
            }
        }
        return settings;
    }
}
