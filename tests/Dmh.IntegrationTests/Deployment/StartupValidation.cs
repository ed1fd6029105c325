using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Dmh.IntegrationTests.Deployment;

/// <summary>
/// Runs a service's own <c>Program</c> up to <c>builder.Build()</c> with exactly the given settings (its
/// appsettings.json, then the environment it would get), runs every <c>ValidateOnStart</c> validation
/// the real start runs, and stops before the host starts: nothing connects anywhere.
/// </summary>
public static class StartupValidation
{
    private static readonly AsyncLocal<Run?> Current = new();

    // Once for the process: hosts built while Current is null (other tests') are left alone.
    private static readonly Lazy<IDisposable> Subscription = new(() => DiagnosticListener.AllListeners.Subscribe(new Listeners()));

    /// <summary>Null when the service would start; else every validation failure.</summary>
    public static string? Errors(Assembly service, string appsettingsFile, IReadOnlyDictionary<string, string> environment)
    {
        var run = new Run(appsettingsFile, environment);
        var args = new List<string>();
        // The host's own settings come from DOTNET_/ASPNETCORE_ variables; the environment name is the one that matters here.
        var name = environment.GetValueOrDefault("DOTNET_ENVIRONMENT") ?? environment.GetValueOrDefault("ASPNETCORE_ENVIRONMENT") ?? Environments.Production;
        args.AddRange(["--environment", name]);
        _ = Subscription.Value;
        Current.Value = run;
        try
        {
            service.EntryPoint!.Invoke(null, [args.ToArray()]);
        }
        catch (TargetInvocationException e) when (e.InnerException is Stop)
        {
        }
        finally
        {
            Current.Value = null;
        }

        return run.Built ? run.Errors : throw new InvalidOperationException($"{service.GetName().Name} never built its host.");
    }

    private sealed class Run(string appsettingsFile, IReadOnlyDictionary<string, string> environment)
    {
        public bool Built { get; set; }

        public string? Errors { get; set; }

        /// <summary>The configuration sources of the process, replaced: what a container or unit would give it.</summary>
        public void Configure(IConfigurationBuilder config)
        {
            config.Sources.Clear();
            config.AddJsonFile(appsettingsFile, optional: false);
            // As the environment-variables provider reads them: __ separates sections.
            config.AddInMemoryCollection(environment.Select(e => new KeyValuePair<string, string?>(e.Key.Replace("__", ":", StringComparison.Ordinal), e.Value)));
        }

        public void Validate(IHost host)
        {
            Built = true;
            try
            {
                host.Services.GetRequiredService<IStartupValidator>().Validate();
            }
            catch (OptionsValidationException e)
            {
                Errors = string.Join("\n", e.Failures);
            }
            catch (AggregateException e)
            {
                Errors = string.Join("\n", e.InnerExceptions.SelectMany(x => x is OptionsValidationException o ? o.Failures : [x.Message]));
            }
            finally
            {
                (host as IDisposable)?.Dispose();
            }
        }
    }

    private sealed class Stop : Exception
    {
    }

    private sealed class Listeners : IObserver<DiagnosticListener>
    {
        public void OnNext(DiagnosticListener listener)
        {
            if (listener.Name == "Microsoft.Extensions.Hosting")
            {
                listener.Subscribe(new Events());
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }

    private sealed class Events : IObserver<KeyValuePair<string, object?>>
    {
        public void OnNext(KeyValuePair<string, object?> value)
        {
            // Hosts other tests build at the same time run on other flows: Current is null there.
            if (Current.Value is not { } run)
            {
                return;
            }

            if (value.Key == "HostBuilding" && value.Value is IHostBuilder builder)
            {
                builder.ConfigureAppConfiguration((_, config) => run.Configure(config));
            }
            else if (value.Key == "HostBuilt" && value.Value is IHost host)
            {
                run.Validate(host);
                // Ends Program.Main here, before migrations or app.Run().
                throw new Stop();
            }
        }

        public void OnCompleted()
        {
        }

        public void OnError(Exception error)
        {
        }
    }
}
