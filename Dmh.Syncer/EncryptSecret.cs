using Dmh.Platform.Security;

namespace Dmh.Syncer;

/// <summary>
/// <c>dotnet Dmh.Syncer.dll encrypt-secret</c>: reads a secret on stdin (never argv, which other
/// users can see) and prints <c>enc:v1:…</c> under the data key from <c>Security__DataKey</c>
/// (or <c>--key-file PATH</c>).
/// </summary>
internal static class EncryptSecret
{
    public static int Run(string[] args)
    {
        var key = Environment.GetEnvironmentVariable("Security__DataKey");
        var keyFile = Array.IndexOf(args, "--key-file");
        if (keyFile >= 0 && keyFile + 1 < args.Length)
        {
            key = File.ReadAllText(args[keyFile + 1]).Trim();
        }

        if (string.IsNullOrEmpty(key))
        {
            Console.Error.WriteLine("encrypt-secret: set Security__DataKey (base64, 32 bytes) or pass --key-file PATH; the secret is read from stdin.");
            return 2;
        }

        var secret = Console.In.ReadToEnd().TrimEnd('\r', '\n');
        if (secret.Length == 0)
        {
            Console.Error.WriteLine("encrypt-secret: no secret on stdin.");
            return 2;
        }

        try
        {
            Console.WriteLine(new SecretProtector(key).Protect(secret));
            return 0;
        }
        catch (InvalidOperationException ex)
        {
            Console.Error.WriteLine("encrypt-secret: " + ex.Message);
            return 2;
        }
    }
}
