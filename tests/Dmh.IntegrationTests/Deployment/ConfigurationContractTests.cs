namespace Dmh.IntegrationTests.Deployment;

/// <summary>The deployments' files, once: keys made by ./dmh keys as compose.yaml's keys service and the install guide run it.</summary>
public sealed class DeploymentFiles : IDisposable
{
    public DeploymentFiles()
    {
        Compose = Deployments.Compose(Path.Combine(Scratch, "compose"));
        Systemd = Deployments.Systemd(Path.Combine(Scratch, "systemd"));
    }

    public string Scratch { get; } = Directory.CreateTempSubdirectory("dmh-contract-").FullName;

    public List<DeployedService> Compose { get; }

    public List<DeployedService> Systemd { get; }

    public DeployedService Service(string source, string name) =>
        (source == "compose.yaml" ? Compose : Systemd).Single(s => s.Name == name);

    public void Dispose() => Directory.Delete(Scratch, recursive: true);
}

/// <summary>
/// The configuration contract: every DMH service of compose.yaml and of deploy/systemd, with the environment it
/// would see there, passes its own start-up validation (the real options classes and validators).
/// </summary>
public sealed class ConfigurationContractTests(DeploymentFiles files) : IClassFixture<DeploymentFiles>
{
    public static TheoryData<string, string> Services => new()
    {
        { "compose.yaml", "wechatsim" },
        { "compose.yaml", "ingress" },
        { "compose.yaml", "settlement" },
        { "compose.yaml", "syncer" },
        { "dmh-wechatsim.service", "dmh-wechatsim" },
        { "dmh-ingress.service", "dmh-ingress" },
        { "dmh-settlement.service", "dmh-settlement" },
        { "dmh-syncer.service", "dmh-syncer" },
    };

    [Theory]
    [MemberData(nameof(Services))]
    public void Each_deployed_service_passes_its_start_up_validation(string source, string name)
    {
        var service = files.Service(source, name);

        var errors = StartupValidation.Errors(service.Program, service.AppSettingsFile, service.Environment);

        Assert.True(errors is null, $"{service} would not start:\n{errors}");
    }

    [Fact]
    public void Both_deployments_start_all_four_programs()
    {
        Assert.Equal(Deployments.Programs.Values.OrderBy(a => a.FullName), files.Compose.Select(s => s.Program).OrderBy(a => a.FullName));
        Assert.Equal(Deployments.Programs.Values.OrderBy(a => a.FullName), files.Systemd.Select(s => s.Program).OrderBy(a => a.FullName));
    }

    [Theory]
    [InlineData("compose.yaml", "ingress", "WechatPay__NotifyUrl", "WechatPay:NotifyUrl")]
    [InlineData("compose.yaml", "syncer", "Security__DataKey", "DataKey")]
    [InlineData("dmh-settlement.service", "dmh-settlement", "WechatPay__MerchantSerialNo", "WechatPay:MerchantSerialNo")]
    [InlineData("dmh-wechatsim.service", "dmh-wechatsim", "Simulator__ApiV3Key", "Simulator:ApiV3Key")]
    [InlineData("dmh-ingress.service", "dmh-ingress", "Database__ConnectionString", "Database:ConnectionString")]
    public void A_deployment_missing_a_required_setting_fails_the_contract(string source, string name, string setting, string named)
    {
        var service = files.Service(source, name).Without(setting);

        var errors = StartupValidation.Errors(service.Program, service.AppSettingsFile, service.Environment);

        Assert.NotNull(errors);
        Assert.Contains(named, errors, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_setting_fails_the_contract()
    {
        var service = files.Service("compose.yaml", "settlement");
        var environment = new Dictionary<string, string>(service.Environment, StringComparer.Ordinal);
        environment["WechatPay__MchID_"] = environment["WechatPay__MchId"];
        environment.Remove("WechatPay__MchId");

        var errors = StartupValidation.Errors(service.Program, service.AppSettingsFile, environment);

        Assert.Contains("WechatPay:MchId is required", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("compose.yaml", "wechatsim")]
    [InlineData("dmh-wechatsim.service", "dmh-wechatsim")]
    public void The_simulator_signs_with_the_key_dmh_keys_made_for_it_and_the_services_verify_with(string source, string name)
    {
        var environment = files.Service(source, name).Environment;
        using var keys = new Dmh.WechatSim.SimKeys(Microsoft.Extensions.Options.Options.Create(new Dmh.WechatSim.SimulatorOptions
        {
            KeyDirectory = environment["Simulator__KeyDirectory"],
            MerchantPublicKeyFile = environment["Simulator__MerchantPublicKeyFile"],
        }));
        var ingress = files.Service(source, source == "compose.yaml" ? "ingress" : "dmh-ingress").Environment;

        Assert.Equal(ingress["WechatPay__PublicKeyId"], keys.PublicKeyId);
        var signature = Dmh.WechatPay.WechatPayCrypto.Sign(keys.Key, "message\n"u8);
        using var verifier = Dmh.WechatPay.WechatPayCrypto.TryLoadPublicKey(File.ReadAllText(ingress["WechatPay__PublicKeyFile"]))!;
        Assert.True(verifier.VerifyData("message\n"u8, Convert.FromBase64String(signature),
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1));
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void Each_service_listens_where_its_health_check_and_proxy_look(string source, string name)
    {
        var urls = files.Service(source, name).Environment["Urls"];

        // compose: the port every container's health check and ports line use; systemd: loopback, behind nginx.
        if (source == "compose.yaml")
        {
            Assert.Equal("http://0.0.0.0:8080", urls);
        }
        else
        {
            Assert.StartsWith("http://127.0.0.1:", urls, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Compose_services_have_health_checks_and_start_only_once_what_they_need_is_healthy()
    {
        var services = Deployments.ComposeServices();
        foreach (var (name, service) in services.Where(s => s.Key != "keys"))
        {
            Assert.True(service.ContainsKey("healthcheck") || service.ContainsKey("profiles"), $"{name} has no health check");
            if (!service.TryGetValue("depends_on", out var dependsOn))
            {
                Assert.True(service.ContainsKey("profiles"), $"{name} depends on nothing");
                continue;
            }

            foreach (var (dependency, condition) in (Dictionary<object, object>)dependsOn)
            {
                var expected = (string)dependency == "keys" ? "service_completed_successfully" : "service_healthy";
                Assert.Equal(expected, ((Dictionary<object, object>)condition)["condition"]);
            }
        }

        Assert.Equal("mariadb:10.11", services["mariadb"]["image"]);
    }
}
