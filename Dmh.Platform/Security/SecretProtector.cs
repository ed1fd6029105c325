using System.Security.Cryptography;
using System.Text;

namespace Dmh.Platform.Security;

/// <summary>
/// Encrypts stored secrets (the customer database password) with AES-256-GCM under a key derived
/// (HKDF-SHA256) from <c>Security:DataKey</c>. Format: <c>enc:v1:</c> + base64(nonce[12] ‖ tag[16] ‖ ciphertext).
/// </summary>
public sealed class SecretProtector
{
    public const string Prefix = "enc:v1:";
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] _key;

    public SecretProtector(string base64Key)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64Key ?? "");
        }
        catch (FormatException)
        {
            throw new InvalidOperationException("Security:DataKey is not base64.");
        }

        if (key.Length < 32)
        {
            throw new InvalidOperationException("Security:DataKey must be at least 32 bytes (base64).");
        }

        // HKDF gives the AES-256 key a purpose of its own, whatever the length of the configured key.
        _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, key, 32, info: Encoding.ASCII.GetBytes("dmh secret " + Prefix));
    }

    public static bool IsProtected(string? value) => value is not null && value.StartsWith(Prefix, StringComparison.Ordinal);

    public string Protect(string plaintext)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + TagSize + plain.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize), Encoding.ASCII.GetBytes(Prefix));
        return Prefix + Convert.ToBase64String(output);
    }

    /// <summary>Decrypts an <c>enc:v1:</c> value; throws <see cref="CryptographicException"/> when it was not made with this key.</summary>
    public string Unprotect(string value)
    {
        if (!IsProtected(value))
        {
            throw new CryptographicException("Not an enc:v1: value.");
        }

        byte[] data;
        try
        {
            data = Convert.FromBase64String(value[Prefix.Length..]);
        }
        catch (FormatException ex)
        {
            throw new CryptographicException("enc:v1: value is not base64.", ex);
        }

        if (data.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("enc:v1: value is too short.");
        }

        var plain = new byte[data.Length - NonceSize - TagSize];
        using var aes = new AesGcm(_key, TagSize);
        aes.Decrypt(data.AsSpan(0, NonceSize), data.AsSpan(NonceSize + TagSize), data.AsSpan(NonceSize, TagSize), plain, Encoding.ASCII.GetBytes(Prefix));
        return Encoding.UTF8.GetString(plain);
    }
}
