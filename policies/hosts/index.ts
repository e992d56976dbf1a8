export * from "./iamPolicyLeastPrivilege";
export * from "./instanceMetadataTokensRequired";
export * from "./sshHostKeyPinned";
export * from "./volumeEncrypted";
