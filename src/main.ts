console.log('broking-terminal-server: bootstrap pending');
